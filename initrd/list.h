/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The initrd list: a declarative description of an initramfs, one entry a
 * line, after the kernel's gen_init_cpio format with three additions:
 *
 *   # comment                         blank lines are ignored too
 *   dir    PATH MODE UID GID
 *   file   PATH SOURCE MODE UID GID
 *   slink  PATH TARGET MODE UID GID
 *   nod    PATH MODE UID GID c|b MAJOR MINOR
 *   bin    PATH SOURCE MODE UID GID   a file plus, like ldd, its interpreter and
 *                                     every shared library it needs (recursively)
 *   lib    NAME                       a library by soname (for dlopen) plus its needs
 *   kernel KVER [MODROOT]             the kernel the following module lines are for
 *   module NAME...                    kernel modules plus their dependencies, from
 *                                     `modprobe --show-depends` (.ko, .ko.xz, ...)
 *   include LIST                      another list (relative to this one's directory)
 *
 * MODE is octal permission bits; UID and GID are numbers. ${NAME} in any field
 * is replaced by a variable given with initrd_list_set_var() or, failing that,
 * the environment; an unset variable is an error. Missing parent directories
 * are created (0755, root). Modules land at their /lib/modules path, and their
 * load order is written to /etc/veil/modules, one absolute path a line.
 */
#ifndef VEIL_INITRD_LIST_H
#define VEIL_INITRD_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define INITRD_LIST_MAX_SIZE (4u << 20)	/* one list file */
#define INITRD_LINE_MAX 4096u
#define INITRD_PATH_MAX 1024u
#define INITRD_MAX_ENTRIES 65536u
#define INITRD_INCLUDE_DEPTH 8
#define INITRD_MODULES_FILE "etc/veil/modules"

enum initrd_type {
	INITRD_DIR,
	INITRD_FILE,
	INITRD_SYMLINK,
	INITRD_NODE,
};

struct initrd_entry {
	char *path;		/* in the archive, no leading '/', normalised */
	enum initrd_type type;
	mode_t mode;		/* permission bits only; the type comes from `type` */
	uid_t uid;
	gid_t gid;
	char *source;		/* FILE: host path, or NULL when data is set; SYMLINK: target */
	char *data;		/* FILE: generated content (NUL-terminated after data_len) */
	size_t data_len;
	bool block;		/* NODE: block (else character) device */
	unsigned int major, minor;
};

struct initrd_list;

struct initrd_list *initrd_list_new(void);
struct initrd_list *initrd_list_free(struct initrd_list *l);
int initrd_list_set_var(struct initrd_list *l, const char *name, const char *value);
/*
 * Where `bin` and `lib` look for libraries, in order, after the file's own
 * DT_RPATH/DT_RUNPATH. Without any call: Debian's multiarch and plain lib
 * dirs, which are also where the guest's loader looks (no ld.so.cache).
 */
int initrd_list_add_libdir(struct initrd_list *l, const char *dir);

/*
 * Parses a list from text (name is used in messages and for include paths).
 * On error returns -errno and, when err is given, a message "NAME:LINE: what".
 */
int initrd_list_parse(struct initrd_list *l, const char *name, const char *text, size_t len,
		      char *err, size_t err_len);
int initrd_list_parse_file(struct initrd_list *l, const char *path, char *err, size_t err_len);

/* Adds one entry (path is normalised; an identical duplicate is dropped). */
int initrd_list_add(struct initrd_list *l, const struct initrd_entry *e);
/* Adds a file and, like ldd, the interpreter and libraries it needs. */
int initrd_list_add_binary(struct initrd_list *l, const char *path, const char *source,
			   mode_t mode, uid_t uid, gid_t gid, char *err, size_t err_len);

/*
 * Finishes the list: creates missing parents, writes the module order file,
 * sorts by path (parents before children) and checks for conflicts.
 */
int initrd_list_finish(struct initrd_list *l, char *err, size_t err_len);
size_t initrd_list_count(const struct initrd_list *l);
const struct initrd_entry *initrd_list_get(const struct initrd_list *l, size_t i);

/*
 * Parses `modprobe --show-depends` output: appends each insmod path, with
 * root stripped, to ret_paths (count in *n). "builtin" lines are skipped.
 */
int initrd_parse_show_depends(const char *text, size_t len, const char *root, char ***paths,
			      size_t *n);

/* Normalises an archive path: strips leading '/', collapses '//' and '/.', refuses '..'. */
int initrd_path_normalise(const char *in, char *out, size_t out_len);

#endif
