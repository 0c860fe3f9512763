// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include "launcher/manifest.h"

#define C "\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\"}]"
#define IMG(x) "{\"version\":1,\"containers\":[{\"name\":\"a\",\"image\":" x "}]}"

TEST(parses_a_full_manifest)
{
	static const char doc[] =
		"{\"version\":1,\"containers\":["
		"{\"name\":\"late\",\"bundle\":\"/b2\",\"order\":5,\"restart\":\"always\",\"raw_sockets\":true,"
		"\"restart_max\":3,\"backoff_ms\":50,\"backoff_max_ms\":400},"
		"{\"name\":\"early\",\"bundle\":\"/b1\",\"order\":1,\"keys\":[\"fhe\"],"
		"\"digest\":\"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}],"
		"\"kbs\":{\"url\":\"https://kbs:8080\",\"tee\":\"tpm\",\"ca\":\"/etc/ca.pem\","
		"\"reattest_s\":30,\"resources\":[{\"name\":\"fhe\",\"uri\":\"kbs:///default/key/fhe\"}]},"
		"\"policy\":{\"lsm\":\"degraded-allowed\",\"seccomp\":\"required\"},"
		"\"decryptd\":{\"enabled\":true,\"key\":\"fhe\",\"workers\":2,\"receipts\":true,"
		"\"models\":[{\"name\":\"fashion\",\"sealed\":\"/m/f.sealed\",\"grant\":[\"early\"]}]},"
		"\"shutdown\":\"never\",\"grace_ms\":100}";
	struct vjson_err e;
	struct manifest *m;

	ASSERT_EQ(0, launcher_manifest_parse(doc, sizeof(doc) - 1, &m, &e));
	ASSERT_EQ(2, m->n_containers);
	EXPECT_STREQ("early", m->containers[0].name);	/* start order */
	EXPECT_TRUE(m->containers[0].pinned);
	EXPECT_EQ(0x11, m->containers[0].digest[1]);
	EXPECT_EQ(LAUNCHER_RESTART_ALWAYS, m->containers[1].restart);
	EXPECT_EQ(3, m->containers[1].restart_max);
	EXPECT_EQ(50, m->containers[1].backoff_ms);
	EXPECT_TRUE(m->containers[1].raw_sockets);
	EXPECT_FALSE(m->containers[0].raw_sockets);
	EXPECT_TRUE(m->lsm_degraded_allowed);
	EXPECT_TRUE(m->seccomp_required);
	EXPECT_TRUE(m->decryptd);
	EXPECT_STREQ("fhe", m->decryptd_key);
	ASSERT_EQ(1, m->dd.n_models);
	EXPECT_STREQ("fashion", m->dd.models[0].name);
	EXPECT_STREQ("/m/f.sealed", m->dd.models[0].sealed);
	ASSERT_EQ(1, m->dd.models[0].n_grant);
	EXPECT_STREQ("early", m->dd.models[0].grant[0]);
	EXPECT_EQ(2, m->dd.workers);
	EXPECT_EQ(64, m->dd.queue);
	EXPECT_TRUE(m->dd.receipts);
	EXPECT_EQ(LAUNCHER_RESTART_ON_FAILURE, m->dd.restart);
	EXPECT_STREQ("tpm", m->kbs_tee);
	EXPECT_EQ(30, m->kbs_reattest_s);
	EXPECT_EQ(LAUNCHER_SHUTDOWN_NEVER, m->shutdown);
	EXPECT_EQ(100, m->grace_ms);
	launcher_manifest_free(m);
}

TEST(parses_an_image_container)
{
	static const char doc[] =
		"{\"version\":1,\"containers\":["
		"{\"name\":\"app\",\"image\":{\"layout\":\"/images/app\",\"ref\":\"app:v1\","
		"\"digest\":\"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
		"\"keys\":[\"layer-key\"],\"entrypoint\":[\"/bin/sh\",\"-c\"],\"cmd\":[\"echo hi\"],"
		"\"env\":[\"MODE=serve\",\"EMPTY=\"],\"cwd\":\"/srv\",\"user\":\"1000:1000\","
		"\"allow_setuid\":true}},"
		"{\"name\":\"plain\",\"image\":{\"layout\":\"/images/p\"},\"keys\":[\"layer-key\"]}],"
		"\"kbs\":{\"url\":\"https://kbs:8080\",\"tee\":\"tpm\","
		"\"resources\":[{\"name\":\"layer-key\",\"uri\":\"kbs:///default/image-key/app\"}]}}";
	const struct manifest_image *im;
	struct vjson_err e;
	struct manifest *m;

	ASSERT_EQ(0, launcher_manifest_parse(doc, sizeof(doc) - 1, &m, &e));
	ASSERT_EQ(2, m->n_containers);
	EXPECT_NULL(m->containers[0].bundle);
	EXPECT_FALSE(m->containers[0].pinned);
	im = m->containers[0].image;
	ASSERT_NONNULL(im);
	EXPECT_STREQ("/images/app", im->layout);
	EXPECT_STREQ("app:v1", im->ref);
	EXPECT_TRUE(im->pinned);
	EXPECT_STREQ("sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		     im->digest);
	ASSERT_EQ(1, im->n_keys);
	EXPECT_STREQ("layer-key", im->keys[0]);
	ASSERT_NONNULL(im->entrypoint);
	EXPECT_STREQ("/bin/sh", im->entrypoint[0]);
	EXPECT_STREQ("-c", im->entrypoint[1]);
	EXPECT_NULL(im->entrypoint[2]);
	ASSERT_NONNULL(im->cmd);
	EXPECT_STREQ("echo hi", im->cmd[0]);
	EXPECT_NULL(im->cmd[1]);
	ASSERT_NONNULL(im->env);
	EXPECT_STREQ("MODE=serve", im->env[0]);
	EXPECT_STREQ("EMPTY=", im->env[1]);
	EXPECT_NULL(im->env[2]);
	EXPECT_STREQ("/srv", im->cwd);
	EXPECT_STREQ("1000:1000", im->user);
	EXPECT_TRUE(im->allow_setuid);
	EXPECT_FALSE(im->allow_devices);
	im = m->containers[1].image;
	ASSERT_NONNULL(im);
	EXPECT_NULL(im->entrypoint);
	EXPECT_NULL(im->cmd);
	EXPECT_NULL(im->env);
	EXPECT_NULL(im->cwd);
	EXPECT_NULL(im->user);
	EXPECT_FALSE(im->allow_setuid);
	EXPECT_NULL(im->ref);
	EXPECT_FALSE(im->pinned);
	EXPECT_EQ(0, im->n_keys);
	EXPECT_EQ(1, m->containers[1].n_keys);
	launcher_manifest_free(m);
}

TEST(defaults_are_strict)
{
	static const char doc[] = "{\"version\":1," C "}";
	struct vjson_err e;
	struct manifest *m;
	char *pol;

	ASSERT_EQ(0, launcher_manifest_parse(doc, sizeof(doc) - 1, &m, &e));
	EXPECT_FALSE(m->lsm_degraded_allowed);
	EXPECT_EQ(LAUNCHER_RESTART_NEVER, m->containers[0].restart);
	EXPECT_FALSE(m->containers[0].raw_sockets);
	EXPECT_EQ(LAUNCHER_SHUTDOWN_LAST_EXIT, m->shutdown);
	pol = launcher_manifest_policy_json(m);
	EXPECT_STREQ("{\"lsm\":\"required\",\"seccomp\":\"bundle\"}", pol);
	free(pol);
	launcher_manifest_free(m);
}

static const struct {
	const char *doc;
	const char *err;	/* a substring the message must contain */
} bad[] = {
	{ "", "" },
	{ "[]", "must be an object" },
	{ "{\"version\":1}", "'containers'" },
	{ "{" C "}", "'version'" },
	{ "{\"version\":2," C "}", "version" },
	{ "{\"version\":1,\"containers\":[]}", "at least one" },
	{ "{\"version\":1," C ",\"extra\":1}", "extra" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"x\":1}]}", "x" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"../a\",\"bundle\":\"/b\"}]}", "containers[0].name" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"rel\"}]}", "containers[0].bundle" },
	{ "{\"version\":1,\"containers\":[{\"name\":1,\"bundle\":\"/b\"}]}", "name" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"restart\":\"sometimes\"}]}", "restart" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"digest\":\"sha256:zz\"}]}", "digest" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\"},{\"name\":\"a\",\"bundle\":\"/c\"}]}", "duplicate" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"restart_max\":100000}]}", "restart_max" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"raw_sockets\":\"yes\"}]}", "containers[0].raw_sockets" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"keys\":[\"k\"]}]}", "kbs.resources" },
	{ "{\"version\":1," C ",\"kbs\":{\"url\":\"ftp://x\",\"tee\":\"tpm\"}}", "kbs.url" },
	{ "{\"version\":1," C ",\"kbs\":{\"url\":\"https://x\",\"tee\":\"quantum\"}}", "kbs.tee" },
	{ "{\"version\":1," C ",\"kbs\":{\"url\":\"https://x\",\"tee\":\"tpm\",\"reattest_s\":5}}", "nothing to re-attest" },
	{ "{\"version\":1," C ",\"kbs\":{\"url\":\"https://x\",\"tee\":\"tpm\",\"reattest_s\":-1}}", "kbs.reattest_s" },
	{ "{\"version\":1," C ",\"kbs\":{\"url\":\"https://x\",\"tee\":\"tpm\",\"reattest_s\":86401}}", "kbs.reattest_s" },
	{ "{\"version\":1," C ",\"kbs\":{\"url\":\"https://x\",\"tee\":\"tpm\",\"reattest_s\":\"60\"}}", "kbs.reattest_s" },
	{ "{\"version\":1," C ",\"kbs\":{\"url\":\"https://x\",\"tee\":\"tpm\",\"reattest_s\":1.5}}", "kbs.reattest_s" },
	{ "{\"version\":1," C ",\"policy\":{\"lsm\":\"off\"}}", "policy.lsm" },
	{ "{\"version\":1," C ",\"policy\":{\"seccomp\":true}}", "policy.seccomp" },
	{ "{\"version\":1," C ",\"decryptd\":{}}", "decryptd.enabled" },
#define KBS ",\"kbs\":{\"url\":\"https://k\",\"tee\":\"tpm\",\"resources\":[{\"name\":\"k\",\"uri\":\"kbs:///a/b/c\"}]}"
#define DDM(x) "{\"version\":1," C KBS ",\"decryptd\":{\"enabled\":true,\"key\":\"k\"," x "}}"
	{ "{\"version\":1," C ",\"decryptd\":{\"enabled\":true,\"key\":\"k\"}}", "decryptd.key" },
	{ "{\"version\":1," C KBS ",\"decryptd\":{\"enabled\":true}}", "decryptd.key" },
	{ DDM("\"models\":[]"), "decryptd.models" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"/s\",\"grant\":[\"nobody\"]}]"), "decryptd.models[0].grant[0]" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"rel\",\"grant\":[\"a\"]}]"), "decryptd.models[0].sealed" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"/s\"}]"), "decryptd.models[0].grant" },
	{ DDM("\"models\":[{\"name\":\"m/x\",\"sealed\":\"/s\",\"grant\":[]}]"), "decryptd.models[0].name" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"/s\",\"grant\":[\"a\",\"a\"]}]"), "duplicate" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"/s\",\"grant\":[],\"x\":1}]"), "x" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"/s\",\"grant\":[]}],\"workers\":1000"), "decryptd.workers" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"/s\",\"grant\":[]}],\"restart\":\"maybe\""), "decryptd.restart" },
	{ DDM("\"models\":[{\"name\":\"m\",\"sealed\":\"/s\",\"grant\":[]}],\"socket\":\"/x\""), "socket" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"veil-decryptd\",\"bundle\":\"/b\"}]}", "reserved" },
	{ "{\"version\":1," C ",\"shutdown\":\"later\"}", "shutdown" },
	{ "{\"version\":1," C ",\"grace_ms\":-5}", "grace_ms" },
	{ "{\"version\":1," C ",\"version\":1}", "" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"bundle\":\"/b\"}]}", "name" },
	/* image containers (docs/images.md, "In veil-init") */
	{ IMG("{\"layout\":\"/i\"},\"bundle\":\"/b\""), "exactly one of 'bundle' and 'image'" },
	{ "{\"version\":1,\"containers\":[{\"name\":\"a\"}]}", "exactly one of 'bundle' and 'image'" },
	{ IMG("[]"), "containers[0].image" },
	{ IMG("\"/i\""), "containers[0].image" },
	{ IMG("{}"), "'containers[0].image.layout': missing" },
	{ IMG("{\"layout\":\"rel/i\"}"), "containers[0].image.layout" },
	{ IMG("{\"layout\":7}"), "containers[0].image.layout" },
	{ IMG("{\"layout\":\"/i\",\"tag\":\"v1\"}"), "tag" },
	{ IMG("{\"layout\":\"/i\",\"ref\":\"\"}"), "containers[0].image.ref" },
	{ IMG("{\"layout\":\"/i\",\"ref\":\"a b\"}"), "containers[0].image.ref" },
	{ IMG("{\"layout\":\"/i\",\"ref\":\"a\\nb\"}"), "containers[0].image.ref" },
	{ IMG("{\"layout\":\"/i\",\"ref\":[\"v1\"]}"), "containers[0].image.ref" },
	{ IMG("{\"layout\":\"/i\",\"digest\":\"sha256:00\"}"), "containers[0].image.digest" },
	{ IMG("{\"layout\":\"/i\",\"digest\":\"sha512:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}"), "containers[0].image.digest" },
	{ IMG("{\"layout\":\"/i\",\"digest\":\"sha256:00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"}"), "containers[0].image.digest" },
	{ IMG("{\"layout\":\"/i\"},\"digest\":\"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""), "'image.digest'" },
	{ IMG("{\"layout\":\"/i\",\"keys\":[\"k\"]}"), "'containers[0].image.keys[0]': 'k' is not in kbs.resources" },
	{ IMG("{\"layout\":\"/i\",\"keys\":[\"../k\"]}"), "containers[0].image.keys[0]" },
	{ IMG("{\"layout\":\"/i\",\"keys\":\"k\"}"), "containers[0].image.keys" },
	/* the manifest's overrides of the image config */
	{ IMG("{\"layout\":\"/i\",\"entrypoint\":[]}"), "'containers[0].image.entrypoint': must not be empty" },
	{ IMG("{\"layout\":\"/i\",\"entrypoint\":\"/bin/sh\"}"), "containers[0].image.entrypoint" },
	{ IMG("{\"layout\":\"/i\",\"cmd\":[7]}"), "'containers[0].image.cmd[0]': expected a string" },
	{ IMG("{\"layout\":\"/i\",\"cmd\":[\"a\\u0000b\"]}"), "is not allowed" },
	{ IMG("{\"layout\":\"/i\",\"env\":[\"NOEQUALS\"]}"), "'containers[0].image.env[0]': expected 'NAME=VALUE'" },
	{ IMG("{\"layout\":\"/i\",\"env\":[\"=v\"]}"), "'containers[0].image.env[0]': expected 'NAME=VALUE'" },
	{ IMG("{\"layout\":\"/i\",\"cwd\":\"srv\"}"), "'containers[0].image.cwd': must be an absolute path" },
	{ IMG("{\"layout\":\"/i\",\"user\":\"\"}"), "'containers[0].image.user'" },
	{ IMG("{\"layout\":\"/i\",\"user\":\"a b\"}"), "'containers[0].image.user'" },
	{ IMG("{\"layout\":\"/i\",\"user\":1000}"), "containers[0].image.user" },
	{ IMG("{\"layout\":\"/i\",\"allow_devices\":\"yes\"}"), "containers[0].image.allow_devices" },
	{ IMG("{\"layout\":\"/i\",\"allow_setuid\":1}"), "containers[0].image.allow_setuid" },
	{ IMG("{\"layout\":\"/i\",\"workdir\":\"/x\"}"), "workdir" },
};

TEST(rejects_malformed_manifests_naming_the_field)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vjson_err e = { { 0 } };
		struct manifest *m = NULL;
		int r = launcher_manifest_parse(bad[i].doc, strlen(bad[i].doc), &m, &e);

		EXPECT_LT(r, 0);
		EXPECT_NULL(m);
		EXPECT_NE(0, e.msg[0]);
		if (!strstr(e.msg, bad[i].err))
			harness_fail(__FILE__, __LINE__, false, "case %zu: '%s' does not name '%s'", i,
				     e.msg, bad[i].err);
	}
}

TEST(rejects_an_oversized_manifest)
{
	size_t n = MANIFEST_MAX + 10;
	char *big = malloc(n);
	struct vjson_err e;
	struct manifest *m;

	ASSERT_NONNULL(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	EXPECT_EQ(-E2BIG, launcher_manifest_parse(big, n, &m, &e));
	free(big);
}
