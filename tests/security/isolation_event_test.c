// SPDX-License-Identifier: GPL-2.0-only
/*
 * The measured isolation event (launcher/lsm.h), natively: it is canonical,
 * built from static inputs only, and changes with every input a KBS policy
 * would want to pin.
 */
#include "tests/harness.h"

#include <seccomp.h>

#include "ebpf/isolation.h"
#include "fhe/decryptd.h"
#include "launcher/lsm.h"
#include "launcher/manifest.h"
#include "launcher/seccomp_default.h"

static const char doc[] =
	"{\"version\":1,\"containers\":["
	"{\"name\":\"b\",\"bundle\":\"/b\",\"keys\":[\"k2\",\"k1\"],\"order\":2},"
	"{\"name\":\"a\",\"bundle\":\"/a\",\"raw_sockets\":true,\"order\":1}],"
	"\"kbs\":{\"url\":\"https://kbs\",\"tee\":\"sample\",\"resources\":["
	"{\"name\":\"k1\",\"uri\":\"kbs:///r/t/one\"},{\"name\":\"k2\",\"uri\":\"kbs:///r/t/two\"}]}}";

#define SA "1111111111111111111111111111111111111111111111111111111111111111"
#define SB "2222222222222222222222222222222222222222222222222222222222222222"

static struct manifest *parse(const char *s)
{
	struct vjson_err e;
	struct manifest *m = NULL;

	if (launcher_manifest_parse(s, strlen(s), &m, &e) < 0)
		TH_LOG("manifest: %s", e.msg);
	return m;
}

TEST(event_is_canonical_and_names_each_containers_grants_and_filter)
{
	struct manifest *m = parse(doc);
	const char *sc[] = { SA, SB };
	char obj[65], want[1024];
	char *ev;

	ASSERT_NONNULL(m);
	ASSERT_EQ(0, ebpf_isolation_object_digest(obj));
	ev = launcher_lsm_event_json(true, m, sc);
	ASSERT_NONNULL(ev);
	/* start order, keys as URIs in grant order, sorted members, no run-time value */
	snprintf(want, sizeof(want),
		 "{\"bpf\":\"sha256:%s\",\"containers\":["
		 "{\"keys\":[],\"name\":\"a\",\"raw_sockets\":true,\"seccomp\":\"sha256:" SA "\"},"
		 "{\"keys\":[\"kbs:///r/t/two\",\"kbs:///r/t/one\"],\"name\":\"b\","
		 "\"raw_sockets\":false,\"seccomp\":\"sha256:" SB "\"}],\"version\":1}", obj);
	EXPECT_STREQ(want, ev);
	free(ev);
	launcher_manifest_free(m);
}

TEST(degraded_event_says_inactive_and_refused_containers_are_left_out)
{
	struct manifest *m = parse(doc);
	const char *sc[] = { NULL, SB };
	char *ev;

	ASSERT_NONNULL(m);
	ev = launcher_lsm_event_json(false, m, sc);
	ASSERT_NONNULL(ev);
	EXPECT_STREQ("{\"bpf\":\"inactive\",\"containers\":[{\"keys\":[\"kbs:///r/t/two\","
		     "\"kbs:///r/t/one\"],\"name\":\"b\",\"raw_sockets\":false,\"seccomp\":\"sha256:" SB
		     "\"}],\"version\":1}", ev);
	free(ev);
	launcher_manifest_free(m);
}

TEST(event_changes_with_the_grant_the_keys_and_the_filter)
{
	static const char *const variants[] = {
		"{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/a\"}]}",
		"{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/a\",\"raw_sockets\":true}]}",
		"{\"version\":1,\"containers\":[{\"name\":\"b\",\"bundle\":\"/a\"}]}",
		"{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/a\",\"keys\":[\"k\"]}],"
		"\"kbs\":{\"url\":\"https://kbs\",\"tee\":\"sample\",\"resources\":"
		"[{\"name\":\"k\",\"uri\":\"kbs:///r/t/k\"}]}}",
	};
	char *seen[sizeof(variants) / sizeof(variants[0]) + 1] = { 0 };
	const char *sa[] = { SA }, *sb[] = { SB };
	size_t n = 0;

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		struct manifest *m = parse(variants[i]);

		ASSERT_NONNULL(m);
		seen[n] = launcher_lsm_event_json(true, m, sa);
		ASSERT_NONNULL(seen[n]);
		n++;
		if (i == 0) {
			seen[n] = launcher_lsm_event_json(true, m, sb);
			ASSERT_NONNULL(seen[n]);
			n++;
		}
		launcher_manifest_free(m);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			EXPECT_STRNE(seen[i], seen[j]);
	for (size_t i = 0; i < n; i++)
		free(seen[i]);
}

TEST(a_bundle_without_seccomp_is_measured_with_veils_default_profile)
{
	struct oci_config cfg = { 0 };
	char got[65], want[65];
	void *ctx = NULL;

	ASSERT_EQ(0, launcher_lsm_seccomp_digest(&cfg, got));
	ASSERT_EQ(0, launcher_seccomp_default_build(&ctx));
	ASSERT_EQ(0, launcher_seccomp_digest(ctx, want));
	EXPECT_STREQ(want, got);
	seccomp_release(ctx);
	/* and a bundle's own filter is measured as itself */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	ASSERT_NONNULL(ctx);
	ASSERT_EQ(0, seccomp_rule_add(ctx, SCMP_ACT_ERRNO(1), SCMP_SYS(acct), 0));
	cfg.seccomp = ctx;
	ASSERT_EQ(0, launcher_lsm_seccomp_digest(&cfg, got));
	EXPECT_STRNE(want, got);
	ASSERT_EQ(0, launcher_seccomp_digest(ctx, want));
	EXPECT_STREQ(want, got);
	seccomp_release(ctx);
	EXPECT_EQ(-EINVAL, launcher_lsm_seccomp_digest(NULL, got));
}

TEST(object_digest_is_stable_and_never_needs_the_kernel)
{
	char a[65], b[65];

	ASSERT_EQ(0, ebpf_isolation_object_digest(a));
	ASSERT_EQ(0, ebpf_isolation_object_digest(b));
	EXPECT_STREQ(a, b);
	EXPECT_EQ(64, (int)strlen(a));
}

/* doc's pod with veil-decryptd serving model m to 'b' with key k1. */
static const char dd_doc[] =
	"{\"version\":1,\"containers\":["
	"{\"name\":\"b\",\"bundle\":\"/b\",\"keys\":[\"k2\"]}],"
	"\"kbs\":{\"url\":\"https://kbs\",\"tee\":\"sample\",\"resources\":["
	"{\"name\":\"k1\",\"uri\":\"kbs:///r/t/one\"},{\"name\":\"k2\",\"uri\":\"kbs:///r/t/two\"}]},"
	"\"decryptd\":{\"enabled\":true,\"key\":\"%s\","
	"\"models\":[{\"name\":\"m\",\"sealed\":\"/m.sealed\",\"grant\":[\"b\"]}]}}";

TEST(decryptd_is_listed_with_its_one_key_no_raw_sockets_and_the_filter_it_installs)
{
	char doc1[1024], doc2[1024], want[1400], obj[65], dd[65], deflt[65];
	struct manifest *m1, *m2, *m0 = parse(doc);
	const char *sc[] = { SB };
	const char *sc0[] = { SA, SB };
	char *ev1, *ev2, *ev0;
	void *ctx = NULL;

	snprintf(doc1, sizeof(doc1), dd_doc, "k1");
	snprintf(doc2, sizeof(doc2), dd_doc, "k2");
	m1 = parse(doc1);
	m2 = parse(doc2);
	ASSERT_NONNULL(m1);
	ASSERT_NONNULL(m2);
	ASSERT_NONNULL(m0);
	ASSERT_EQ(0, ebpf_isolation_object_digest(obj));
	/* the allowlist veil-decryptd loads into itself, digested as veil-init digests a bundle's */
	ASSERT_EQ(0, decryptd_seccomp_build(&ctx));
	ASSERT_EQ(0, launcher_seccomp_digest(ctx, dd));
	seccomp_release(ctx);
	ASSERT_EQ(0, launcher_seccomp_default_build(&ctx));
	ASSERT_EQ(0, launcher_seccomp_digest(ctx, deflt));
	seccomp_release(ctx);
	EXPECT_STRNE(deflt, dd);

	ev1 = launcher_lsm_event_json(true, m1, sc);
	ASSERT_NONNULL(ev1);
	snprintf(want, sizeof(want),
		 "{\"bpf\":\"sha256:%s\",\"containers\":["
		 "{\"keys\":[\"kbs:///r/t/two\"],\"name\":\"b\",\"raw_sockets\":false,"
		 "\"seccomp\":\"sha256:" SB "\"}],"
		 "\"decryptd\":{\"keys\":[\"kbs:///r/t/one\"],\"name\":\"veil-decryptd\","
		 "\"raw_sockets\":false,\"seccomp\":\"sha256:%s\"},\"version\":1}", obj, dd);
	EXPECT_STREQ(want, ev1);
	/* its key is part of what a KBS policy pins */
	ev2 = launcher_lsm_event_json(true, m2, sc);
	ASSERT_NONNULL(ev2);
	EXPECT_STRNE(ev1, ev2);
	EXPECT_NONNULL(strstr(ev2, "\"decryptd\":{\"keys\":[\"kbs:///r/t/two\"]"));
	/* and a pod without the service has no such member */
	ev0 = launcher_lsm_event_json(true, m0, sc0);
	ASSERT_NONNULL(ev0);
	EXPECT_NULL(strstr(ev0, "decryptd"));
	free(ev0);
	free(ev1);
	free(ev2);
	launcher_manifest_free(m0);
	launcher_manifest_free(m1);
	launcher_manifest_free(m2);
}
