/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil-kbs's declarative resource policy (docs/kbs.md "Policy language"):
 * a JSON list of rules, each naming resource paths, the TEEs it admits, the
 * token status it needs and the claim values it requires. A request is
 * allowed when some rule for its path holds; otherwise denied. `sample`
 * evidence passes only a rule whose "tee" names it. The same grammar without
 * "resources" and "status" is the attestation (appraisal) policy, which
 * decides the token's ear.status.
 */
#ifndef VEIL_KBS_POLICY_H
#define VEIL_KBS_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KBS_POLICY_MAX (1u << 20)
#define KBS_POLICY_RULES_MAX 1024

enum kbs_policy_kind {
	KBS_POLICY_RESOURCE,
	KBS_POLICY_APPRAISAL,
};

struct kbs_policy;

/* 0, or -EINVAL with err naming the rule and member that is wrong and why. */
int kbs_policy_parse(const char *text, size_t len, enum kbs_policy_kind kind,
		     struct kbs_policy **ret, char *err, size_t err_len);
void kbs_policy_free(struct kbs_policy *p);

/*
 * Resource policy: 1 allow, 0 deny. evidence is the token's annotated
 * evidence ({"<tee>": claims, "report_data", "runtime_data_claims", ...}).
 * why gets the allowing rule's name or the reason for the denial.
 */
int kbs_policy_allows(const struct kbs_policy *p, const char *path, const char *tee,
		      const char *status, const json_t *evidence, char *why, size_t why_len);

/* Appraisal policy: 1 when some rule holds (the evidence is affirmed), else 0. */
int kbs_policy_affirms(const struct kbs_policy *p, const char *tee, const json_t *evidence,
		       char *why, size_t why_len);

#endif
