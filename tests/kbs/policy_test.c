// SPDX-License-Identifier: GPL-2.0-only
/* The resource and appraisal policy language: what it accepts, what it refuses and why, what it allows. */
#include "tests/harness.h"

#include "kbs/policy.h"
#include "lib/cleanup.h"

static const struct {
	const char *text, *why;
} invalid[] = {
	{ "", "not JSON" },
	{ "[]", "expected an object" },
	{ "{\"rules\":[]}", "version" },
	{ "{\"version\":2,\"rules\":[]}", "version" },
	{ "{\"version\":1}", "rules" },
	{ "{\"version\":1,\"rules\":[],\"extra\":1}", "extra" },
	{ "{\"version\":1,\"rules\":[1]}", "rules[0]: expected an object" },
	{ "{\"version\":1,\"rules\":[{}]}", "'resources' is missing" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[]}]}", "non-empty array" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b\"]}]}", "is not REPO/TYPE/TAG" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c/d\"]}]}", "segment 3" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/../c\"]}]}", "segment 2" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b*/c\"]}]}", "segment 2" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"tee\":[\"sgx2\"]}]}", "'sgx2' is not a TEE name" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"tee\":\"snp\"}]}", "non-empty array" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"status\":[\"great\"]}]}", "'great' is not one of" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":[]}]}", "claims: expected an object" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":{\"snp..x\":1}}]}", "dotted claim path" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":{\"x\":{\"gt\":1}}}]}", "unknown operator 'gt'" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":{\"x\":{\"min\":\"3\"}}}]}", "expected an integer" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":{\"x\":{\"one_of\":[]}}}]}", "non-empty array" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":{\"x\":[]}}]}", "empty list" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":{\"x\":{}}}]}", "empty condition" },
	{ "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"],\"claims\":{\"x\":{\"present\":1}}}]}", "expected a boolean" },
	{ "{\"version\":1,\"rules\":[{\"name\":\"k\",\"resources\":[\"a/b/c\"],\"bogus\":1}]}", "bogus" },
};

TEST(malformed_policies_are_rejected_with_the_reason)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		struct kbs_policy *p = NULL;
		char err[512] = "";

		EXPECT_EQ(-EINVAL, kbs_policy_parse(invalid[i].text, strlen(invalid[i].text),
						    KBS_POLICY_RESOURCE, &p, err, sizeof(err)));
		EXPECT_NULL(p);
		if (!strstr(err, invalid[i].why))
			harness_fail(__FILE__, __LINE__, false, "case %zu: '%s' lacks '%s'", i, err,
				     invalid[i].why);
	}
}

TEST(appraisal_policies_refuse_resource_only_members)
{
	const char *t = "{\"version\":1,\"rules\":[{\"resources\":[\"a/b/c\"]}]}";
	struct kbs_policy *p = NULL;
	char err[256] = "";

	EXPECT_EQ(-EINVAL, kbs_policy_parse(t, strlen(t), KBS_POLICY_APPRAISAL, &p, err, sizeof(err)));
	EXPECT_NONNULL(strstr(err, "resources"));
}

static const char policy[] =
	"{\"version\":1,\"rules\":["
	" {\"name\":\"snp model key\",\"resources\":[\"veil/fhe/*\"],\"tee\":[\"snp\",\"az-snp-vtpm\"],"
	"  \"status\":[\"affirming\"],"
	"  \"claims\":{\"snp.measurement\":[\"AABB\",\"ccdd\"],\"snp.policy_debug_allowed\":false,"
	"   \"snp.reported_tcb_snp\":{\"min\":8},\"snp.policy\":{\"bits_clear\":524288},"
	"   \"init_data\":\"1234\"}},"
	" {\"name\":\"tpm pods\",\"resources\":[\"veil/*/model\"],\"tee\":[\"tpm\"],"
	"  \"claims\":{\"tpm.pcr11\":\"ab\",\"tpm.containers\":{\"contains_all\":[\"sha256:1\",\"sha256:2\"]}}},"
	" {\"name\":\"any hardware\",\"resources\":[\"open/keys/any\"]},"
	" {\"name\":\"dev\",\"resources\":[\"dev/*/*\"],\"tee\":[\"sample\"],\"claims\":{\"sample.debug\":{\"present\":false}}}"
	"]}";

static int allows(const char *path, const char *tee, const char *status, const char *ev_json)
{
	struct kbs_policy *p;
	char err[256], why[256];
	json_t *ev = json_loads(ev_json, 0, NULL);
	int r;

	if (kbs_policy_parse(policy, strlen(policy), KBS_POLICY_RESOURCE, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "# %s\n", err);
		return -1;
	}
	r = kbs_policy_allows(p, path, tee, status, ev, why, sizeof(why));
	fprintf(stdout, "# %s %s: %s\n", path, tee, why);
	kbs_policy_free(p);
	json_decref(ev);
	return r;
}

#define SNP_OK "{\"snp\":{\"measurement\":\"aabb\",\"policy_debug_allowed\":false,\"reported_tcb_snp\":8,\"policy\":196608},\"init_data\":\"1234\"}"

TEST(rules_allow_only_matching_paths_tees_statuses_and_claims)
{
	EXPECT_EQ(1, allows("veil/fhe/key", "snp", "affirming", SNP_OK));
	EXPECT_EQ(0, allows("veil/fhe/key", "snp", "warning", SNP_OK));
	EXPECT_EQ(0, allows("veil/fhe/key", "tdx", "affirming", SNP_OK));
	EXPECT_EQ(0, allows("veil/other/key", "snp", "affirming", SNP_OK));
	EXPECT_EQ(0, allows("veil/fhe/key", "snp", "affirming",
			    "{\"snp\":{\"measurement\":\"aabc\",\"policy_debug_allowed\":false,\"reported_tcb_snp\":8,\"policy\":196608},\"init_data\":\"1234\"}"));
	EXPECT_EQ(0, allows("veil/fhe/key", "snp", "affirming",
			    "{\"snp\":{\"measurement\":\"aabb\",\"policy_debug_allowed\":false,\"reported_tcb_snp\":7,\"policy\":196608},\"init_data\":\"1234\"}"));
	/* DEBUG (bit 19) set in the guest policy */
	EXPECT_EQ(0, allows("veil/fhe/key", "snp", "affirming",
			    "{\"snp\":{\"measurement\":\"aabb\",\"policy_debug_allowed\":false,\"reported_tcb_snp\":8,\"policy\":720896},\"init_data\":\"1234\"}"));
	EXPECT_EQ(0, allows("veil/fhe/key", "snp", "affirming",
			    "{\"snp\":{\"measurement\":\"aabb\",\"policy_debug_allowed\":false,\"reported_tcb_snp\":8,\"policy\":196608}}"));
	/* Claim paths name the TEE: az-snp-vtpm claims live under "az-snp-vtpm", not "snp". */
	EXPECT_EQ(0, allows("veil/fhe/key", "az-snp-vtpm", "affirming",
			    "{\"az-snp-vtpm\":{\"measurement\":\"aabb\"},\"init_data\":\"1234\"}"));
	/* Claims given as strings ("false", "9", as az-snp-vtpm gives them) compare by value. */
	EXPECT_EQ(1, allows("veil/fhe/key", "snp", "affirming",
			    "{\"snp\":{\"measurement\":\"CCDD\",\"policy_debug_allowed\":\"false\",\"reported_tcb_snp\":\"9\",\"policy\":\"196608\"},\"init_data\":\"1234\"}"));
}

TEST(container_digests_must_all_be_present)
{
	EXPECT_EQ(1, allows("veil/x/model", "tpm", "affirming",
			    "{\"tpm\":{\"pcr11\":\"ab\",\"containers\":[\"sha256:2\",\"sha256:3\",\"sha256:1\"]}}"));
	EXPECT_EQ(0, allows("veil/x/model", "tpm", "affirming",
			    "{\"tpm\":{\"pcr11\":\"ab\",\"containers\":[\"sha256:2\"]}}"));
	EXPECT_EQ(0, allows("veil/x/model", "tpm", "affirming", "{\"tpm\":{\"pcr11\":\"ab\"}}"));
}

TEST(sample_passes_only_rules_that_name_it)
{
	EXPECT_EQ(1, allows("open/keys/any", "tdx", "contraindicated", "{\"tdx\":{}}"));
	EXPECT_EQ(0, allows("open/keys/any", "sample", "affirming", "{\"sample\":{}}"));
	EXPECT_EQ(1, allows("dev/a/b", "sample", "warning", "{\"sample\":{\"svn\":\"1\"}}"));
	EXPECT_EQ(0, allows("dev/a/b", "sample", "warning", "{\"sample\":{\"debug\":false}}"));
	EXPECT_EQ(0, allows("dev/a/b", "tpm", "affirming", "{\"tpm\":{}}"));
}

TEST(no_policy_denies_everything)
{
	char why[128];
	json_t *ev = json_object();

	EXPECT_EQ(0, kbs_policy_allows(NULL, "a/b/c", "snp", "affirming", ev, why, sizeof(why)));
	EXPECT_STREQ("no resource policy is set", why);
	json_decref(ev);
}

TEST(appraisal_policy_affirms_matching_evidence)
{
	const char *t = "{\"version\":1,\"rules\":[{\"tee\":[\"sample\"],\"claims\":{\"sample.svn\":{\"one_of\":[\"1\",\"2\"]}}}]}";
	struct kbs_policy *p;
	char err[256], why[256];
	json_t *ok = json_loads("{\"sample\":{\"svn\":\"2\"}}", 0, NULL);
	json_t *no = json_loads("{\"sample\":{\"svn\":\"3\"}}", 0, NULL);

	ASSERT_EQ(0, kbs_policy_parse(t, strlen(t), KBS_POLICY_APPRAISAL, &p, err, sizeof(err)));
	EXPECT_EQ(1, kbs_policy_affirms(p, "sample", ok, why, sizeof(why)));
	EXPECT_EQ(0, kbs_policy_affirms(p, "sample", no, why, sizeof(why)));
	kbs_policy_free(p);
	json_decref(ok);
	json_decref(no);
}
