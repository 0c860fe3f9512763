# SPDX-License-Identifier: GPL-2.0-only
#
# veil's build, in the style of the kernel's tools/ build: one non-recursive
# GNU make, object lists in ./Kbuild, every output under O= (default build/,
# build-san/ with SANITIZE=1), quiet lines unless V=1.
#
#   make [O=DIR] [V=1] [CI=true] [SANITIZE=1]      build everything
#   make check [T=AREA]                             build, then run tests via prove
#   make help                                       all targets and variables

MAKEFLAGS += --no-builtin-rules --no-builtin-variables --no-print-directory
.SUFFIXES:
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all
SHELL := /bin/bash

srctree := $(CURDIR)

ifeq ($(SANITIZE),1)
O ?= build-san
else
O ?= build
endif
override O := $(abspath $(O))

# ---- quiet lines -------------------------------------------------------------
ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

# ---- tools and flags ---------------------------------------------------------
CC      := $(if $(filter default undefined,$(origin CC)),gcc,$(CC))
CLANG   ?= clang
AR      := $(if $(filter default undefined,$(origin AR)),ar,$(AR))
PROVE   ?= prove
BPFTOOL ?= bpftool

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	    -Wno-missing-field-initializers
HARDENING := -fstack-protector-strong -fstack-clash-protection -fPIE
ifeq ($(SANITIZE),1)
# ASan replaces the fortified libc entry points; FORTIFY on top only adds noise.
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
HARDENING += -D_FORTIFY_SOURCE=2
endif

VEIL_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE $(WARNINGS) $(HARDENING) $(SANFLAGS) \
	       -I$(srctree) -I$(O) -MMD -MP
ifeq ($(CI),true)
VEIL_CFLAGS += -Werror
endif
VEIL_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SANFLAGS)

include $(srctree)/Kbuild

# Libraries every area may use; Kbuild adds more through ldlibs-y.
LDLIBS_ALL := $(ldlibs-y) -ljansson -lcurl -lcrypto -lpthread

ALL_CFLAGS  := $(VEIL_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(VEIL_LDFLAGS) $(LDFLAGS)
tests/harness.o-cflags := -DVEIL_SRCDIR_DEFAULT='"$(srctree)"'

# ---- stamps: dependencies installed, flags unchanged -------------------------
DEPS_STAMP  := $(O)/.deps-stamp
FLAGS_STAMP := $(O)/.flags-stamp
flags-now := $(CC) $(ALL_CFLAGS) | $(ALL_LDFLAGS) | $(LDLIBS_ALL)
$(shell mkdir -p '$(O)' && { [ "$$(cat '$(FLAGS_STAMP)' 2>/dev/null)" = '$(flags-now)' ] || \
	printf '%s' '$(flags-now)' > '$(FLAGS_STAMP)'; })

ifeq ($(SKIP_DEPS),1)
$(DEPS_STAMP):
	$(Q)touch $@
else
$(DEPS_STAMP): $(srctree)/scripts/deps
	$(call msg,DEPS,scripts/deps)
	$(Q)$(srctree)/scripts/deps
	$(Q)touch $@
endif

# ---- BPF: vmlinux.h from the guest kernel's BTF, objects, skeletons ------------
# Every NAME.bpf.o in bpf-y is built from NAME.bpf.c (clang -target bpf, then
# `bpftool gen object` to drop DWARF) and gets NAME.skel.h under $(O); the
# skeletons are generated headers every C object waits for. vmlinux.h comes
# from VMLINUX_BTF, by default the BTF of the guest kernel the test bed boots
# (Debian 12's 6.1, extracted by tests/vm/kernel), so programs only use what
# the guest has; CO-RE carries them to 6.12 too.
VMLINUX_BTF ?= $(O)/vm/kernel/6.1/vmlinux
BPF_CFLAGS := -target bpf -g -O2 -D__TARGET_ARCH_x86 -Wall -Werror -I$(O) -I$(srctree) $(bpf-cflags-y)
bpf-objs  := $(addprefix $(O)/,$(bpf-y))
bpf-skels := $(bpf-objs:.bpf.o=.skel.h)
gen-headers-y += $(bpf-skels)

$(O)/vm/kernel/%/vmlinux: $(srctree)/tests/vm/kernel | $(DEPS_STAMP)
	$(call msg,KERNEL,vm/kernel/$*)
	$(Q)$(srctree)/tests/vm/kernel $* $(O)/vm/kernel/$*
	$(Q)touch $@

$(O)/vmlinux.h: $(VMLINUX_BTF) | $(DEPS_STAMP)
	$(call msg,GEN,vmlinux.h)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@.tmp
	$(Q)mv $@.tmp $@

$(bpf-objs): $(O)/%.bpf.o: $(srctree)/%.bpf.c $(O)/vmlinux.h $(FLAGS_STAMP) | $(DEPS_STAMP)
	$(call msg,CLANG,$*.bpf.o)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(O)/$*.bpf.d -MT $@ -c $< -o $(O)/$*.tmp.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $(O)/$*.tmp.bpf.o
	$(Q)rm -f $(O)/$*.tmp.bpf.o

$(bpf-skels): $(O)/%.skel.h: $(O)/%.bpf.o
	$(call msg,GEN,$*.skel.h)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$(notdir $*))_bpf > $@.tmp
	$(Q)mv $@.tmp $@

# ---- the test bed's list of programs to run inside the guest ----------------
# vm-tests-y (Kbuild) is written to $(O)/tests/vm/vm-tests.list, rewritten only
# when it changes; tests/vm/guest_suite_test boots them all in one guest.
# vm-files-y (helpers those programs exec) goes to vm-files.list the same way.
VM_TESTS_LIST := $(O)/tests/vm/vm-tests.list
VM_FILES_LIST := $(O)/tests/vm/vm-files.list
$(shell mkdir -p '$(O)/tests/vm' && { [ -e '$(VM_TESTS_LIST)' ] && [ "$$(cat '$(VM_TESTS_LIST)')" = '$(strip $(vm-tests-y))' ] || \
	printf '%s' '$(strip $(vm-tests-y))' > '$(VM_TESTS_LIST)'; } && \
	{ [ -e '$(VM_FILES_LIST)' ] && [ "$$(cat '$(VM_FILES_LIST)')" = '$(strip $(vm-files-y))' ] || \
	printf '%s' '$(strip $(vm-files-y))' > '$(VM_FILES_LIST)'; })

# ---- objects -----------------------------------------------------------------
$(O)/%.o: $(srctree)/%.c $(FLAGS_STAMP) | $(DEPS_STAMP) $(gen-headers-y)
	$(call msg,CC,$*.o)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $($*.o-cflags) -c -o $@ $<

# ---- archives ----------------------------------------------------------------
lib-files := $(addprefix $(O)/,$(libs-y))

define archive_rule
$(O)/$(1): $$(addprefix $(O)/,$$($(1)-y))
	$$(call msg,AR,$(1))
	$(Q)rm -f $$@
	$(Q)$(AR) rcs $$@ $$^
endef
$(foreach l,$(libs-y),$(eval $(call archive_rule,$(l))))

# Every program and test links its objects against all archives in one group,
# so archive order never matters and unused members are never pulled in.
link-group = -Wl,--start-group $(lib-files) -Wl,--end-group

# ---- programs ----------------------------------------------------------------
define prog_rule
$(O)/$(1): $$(addprefix $(O)/,$$($(1)-y)) $(lib-files)
	$$(call msg,LD,$(1))
	$(Q)$$(CC) $$(ALL_LDFLAGS) $$($(1)-ldflags) -o $$@ $$(filter %.o,$$^) $$(link-group) \
		$$($(1)-ldlibs) $$(LDLIBS_ALL)
endef
# test-progs-y: programs with their own main() built for tests, never installed.
$(foreach p,$(progs-y) $(test-progs-y),$(eval $(call prog_rule,$(p))))

# ---- tests -------------------------------------------------------------------
define test_rule
$(O)/$(1): $(O)/$(1).o $(O)/tests/harness.o $$(addprefix $(O)/,$$($(1)-y)) $(lib-files)
	$$(call msg,LD,$(1))
	$(Q)$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(link-group) $$($(1)-ldlibs) $$(LDLIBS_ALL)
endef
$(foreach t,$(tests-y) $(test-helpers-y),$(eval $(call test_rule,$(t))))

# ---- shared libraries (solibs-y) ---------------------------------------------
# NAME-y objects are compiled again with -fPIC under $(O)/pic/; NAME-ldflags
# (a version script, say) and NAME-ldlibs apply to the link. No archive is
# linked in: a shared library carries only its own objects.
pic-dir := $(O)/pic
$(pic-dir)/%.o: $(srctree)/%.c $(FLAGS_STAMP) | $(DEPS_STAMP) $(gen-headers-y)
	$(call msg,CC,pic/$*.o)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC $($*.o-cflags) -c -o $@ $<

define solib_rule
$(O)/$(1): $$(addprefix $(pic-dir)/,$$($(1)-y))
	$$(call msg,LD,$(1))
	$(Q)$$(CC) $$(filter-out -pie,$$(ALL_LDFLAGS)) -shared -Wl,-soname,$(1) $$($(1)-ldflags) \
		-o $$@ $$^ $$($(1)-ldlibs)
endef
$(foreach s,$(solibs-y),$(eval $(call solib_rule,$(s))))
solib-files := $(addprefix $(O)/,$(solibs-y))

prog-files := $(addprefix $(O)/,$(progs-y) $(test-progs-y))
test-files := $(addprefix $(O)/,$(tests-y) $(test-helpers-y))

all: $(lib-files) $(solib-files) $(prog-files) $(test-files) $(bpf-skels) $(extra-y)

# make check [T=AREA]: the test list is tests-y in Kbuild, nowhere else.
check-list := $(if $(T),$(filter $(addprefix tests/,$(addsuffix /%,$(T))),$(tests-y)),$(tests-y))
PROVE_FLAGS ?=

check: all
ifneq ($(T),)
	@[ -n "$(strip $(check-list))" ] || { echo "make check: no tests in area '$(T)'" >&2; exit 2; }
endif
	$(Q)cd $(O) && VEIL_SRCDIR=$(srctree) VEIL_BUILDDIR=$(O) VEIL_TEST_LOGS=$(O)/test-logs \
		$(srctree)/tests/check $(PROVE) $(PROVE_FLAGS) --exec '$(srctree)/tests/run-test' $(check-list)

# ---- fuzzing -----------------------------------------------------------------
# Targets are built with clang's libFuzzer + ASan against every library object,
# compiled again with clang into their own directory.
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I$(srctree) -I$(O) -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=undefined -DVEIL_FUZZING $(fuzz-cflags-y)
fuzz-dir := $(O)/fuzz
fuzz-lib-objs := $(addprefix $(fuzz-dir)/,$(foreach l,$(libs-y),$($(l)-y)))

$(fuzz-dir)/%.o: $(srctree)/%.c $(FLAGS_STAMP) | $(DEPS_STAMP) $(gen-headers-y)
	$(call msg,CLANG,$*.o)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $($*.o-cflags) -MMD -MP -c -o $@ $<

$(fuzz-dir)/libfuzz.a: $(fuzz-lib-objs)
	$(call msg,AR,fuzz/libfuzz.a)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(addprefix $(fuzz-dir)/,$(fuzz-y)): $(fuzz-dir)/%: $(fuzz-dir)/%.o $(fuzz-dir)/libfuzz.a
	$(call msg,LD,fuzz/$*)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $< $(fuzz-dir)/libfuzz.a $(LDLIBS_ALL)

fuzz: $(addprefix $(fuzz-dir)/,$(fuzz-y))
	$(Q)set -e; for t in $(fuzz-y); do \
		n=$${t##*/}; corpus=$(O)/fuzz-corpus/$$n; seeds=$(srctree)/tests/fuzz/corpus/$$n; \
		mkdir -p $$corpus; \
		printf '  %-7s %s (%ss)\n' FUZZ $$n $(FUZZ_SECONDS); \
		$(fuzz-dir)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=0 -artifact_prefix=$(O)/fuzz-crash-$$n- \
			$$corpus $$( [ -d $$seeds ] && echo $$seeds ) > $(O)/fuzz-$$n.log 2>&1 || \
			{ tail -n 40 $(O)/fuzz-$$n.log; echo "fuzz: $$n crashed (log: $(O)/fuzz-$$n.log)"; exit 1; }; \
	done; echo "fuzz: $(words $(fuzz-y)) targets ran $(FUZZ_SECONDS)s each, no crash"

# ---- benchmarks, demo, initrd ------------------------------------------------
bench: all $(bench-deps-y)
	$(Q)VEIL_SRCDIR=$(srctree) VEIL_BUILDDIR=$(O) $(srctree)/bench/run $(bench-y)

demo: all $(demo-deps-y)
	$(Q)VEIL_SRCDIR=$(srctree) VEIL_BUILDDIR=$(O) $(srctree)/scripts/demo

# $(O)/NAME.cpio.gz from initrd/NAME.list, for the kernel INITRD_KERNEL; always
# rebuilt (it takes well under a second), and byte-identical when nothing changed.
INITRD_KERNEL ?= 6.1
INITRD_INIT ?= $(O)/veil-init
$(addprefix $(O)/,$(initrd-y)): $(O)/%.cpio.gz: $(srctree)/initrd/%.list $(O)/veil \
		$(O)/vm/kernel/$(INITRD_KERNEL)/vmlinux all FORCE
	$(call msg,GEN,$*.cpio.gz)
	$(Q)$(O)/veil mkinitrd -z -D O=$(O) -D SRC=$(srctree) -D INIT=$(INITRD_INIT) \
		-D KVER=$$(cat $(O)/vm/kernel/$(INITRD_KERNEL)/kver) \
		-D MODROOT=$$(cat $(O)/vm/kernel/$(INITRD_KERNEL)/modroot) $< -o $@
	$(Q)sha256sum $@ | sed 's|  $(O)/|  |'

FORCE:

initrd: all $(addprefix $(O)/,$(initrd-y))
ifeq ($(strip $(initrd-y)),)
	@echo "make initrd: the initrd builder is not built yet (test-bed issue)" >&2; exit 1
endif

# ---- install, clean, help ----------------------------------------------------
PREFIX  ?= /usr/local
DESTDIR ?=
install: all
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin
	$(Q)for p in $(progs-y); do \
		case $$p in veil-init|veil-kbs|veil-decryptd) d=sbin;; *) d=bin;; esac; \
		printf '  %-7s %s\n' INSTALL $(DESTDIR)$(PREFIX)/$$d/$$p; \
		install -m 0755 $(O)/$$p $(DESTDIR)$(PREFIX)/$$d/$$p; done

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)

help:
	@echo 'Targets:'
	@echo '  all      build libraries, programs and tests (default)'
	@echo '  check    build, then run every test through prove; T=AREA runs one area'
	@echo '           (areas: $(sort $(foreach t,$(tests-y),$(word 2,$(subst /, ,$(t))))))'
	@echo '  demo     run the whole story (see README.md)'
	@echo '  bench    run the benchmarks against their peers'
	@echo '  fuzz     build the libFuzzer targets and run each FUZZ_SECONDS (default 10)'
	@echo '  initrd   build the pod VM base image ($(O)/veil-initrd.cpio.gz, veil-init as /init;'
	@echo '           INITRD_KERNEL=6.1|6.12, INITRD_INIT=PROG); scripts/pod-initrd adds a pod'
	@echo '  install  install programs under DESTDIR/PREFIX (default /usr/local)'
	@echo '  clean    remove O='
	@echo 'Variables:'
	@echo '  O=DIR         output directory (default build/, build-san/ with SANITIZE=1)'
	@echo '  V=1           print full commands'
	@echo '  CI=true       add -Werror'
	@echo '  SANITIZE=1    build with ASan + UBSan'
	@echo '  SKIP_DEPS=1   do not run scripts/deps'
	@echo '  CFLAGS=...    extra compiler flags (a change rebuilds everything)'

.PHONY: all check fuzz bench demo initrd install clean help FORCE

-include $(shell find '$(O)' -name '*.d' 2>/dev/null)
