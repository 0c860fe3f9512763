// SPDX-License-Identifier: GPL-2.0-only
/*
 * SEV-SNP reports: layout, serde JSON, endorsement chain, signature, claims.
 * Only signatures are checked along the chain (AMD's certificates carry no
 * useful validity or CRL data for this), exactly the ARK of the report's CPU
 * generation is trusted, and every field the chain vouches for (TCB, chip id)
 * is compared with the report.
 */
#include "attest/snp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/verify_util.h"
#include "lib/cleanup.h"
#include "lib/json.h"

#define OFF_VERSION 0x000
#define OFF_GUEST_SVN 0x004
#define OFF_POLICY 0x008
#define OFF_FAMILY_ID 0x010
#define OFF_IMAGE_ID 0x020
#define OFF_VMPL 0x030
#define OFF_SIG_ALGO 0x034
#define OFF_CURRENT_TCB 0x038
#define OFF_PLAT_INFO 0x040
#define OFF_KEY_INFO 0x048
#define OFF_REPORT_DATA 0x050
#define OFF_MEASUREMENT 0x090
#define OFF_HOST_DATA 0x0C0
#define OFF_ID_KEY_DIGEST 0x0E0
#define OFF_AUTHOR_KEY_DIGEST 0x110
#define OFF_REPORT_ID 0x140
#define OFF_REPORT_ID_MA 0x160
#define OFF_REPORTED_TCB 0x180
#define OFF_CPUID_FAM 0x188
#define OFF_CPUID_MOD 0x189
#define OFF_CPUID_STEP 0x18A
#define OFF_CHIP_ID 0x1A0
#define OFF_COMMITTED_TCB 0x1E0
#define OFF_CURRENT_VER 0x1E8
#define OFF_COMMITTED_VER 0x1EC
#define OFF_LAUNCH_TCB 0x1F0
#define OFF_LAUNCH_MIT 0x1F8
#define OFF_CURRENT_MIT 0x200
#define OFF_SIG_R 0x2A0
#define OFF_SIG_S 0x2E8
#define SIG_COMPONENT 72u
#define P384_LEN 48u

#define AMD_OID "1.3.6.1.4.1.3704.1"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static enum attest_snp_gen gen_from_cpuid(uint8_t fam, uint8_t mod)
{
	if (fam == 0x19 && mod <= 0x0F)
		return ATTEST_SNP_MILAN;
	if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAF)))
		return ATTEST_SNP_GENOA;
	if (fam == 0x1A && mod <= 0x11)
		return ATTEST_SNP_TURIN;
	return ATTEST_SNP_GEN_UNKNOWN;
}

static const char *gen_name(enum attest_snp_gen g)
{
	switch (g) {
	case ATTEST_SNP_MILAN:
		return "milan";
	case ATTEST_SNP_GENOA:
		return "genoa";
	case ATTEST_SNP_TURIN:
		return "turin";
	default:
		return "unknown";
	}
}

static struct attest_snp_tcb decode_tcb(const uint8_t *p, enum attest_snp_gen g)
{
	struct attest_snp_tcb t = { 0 };

	if (g == ATTEST_SNP_TURIN) {
		t.fmc = p[0];
		t.bootloader = p[1];
		t.tee = p[2];
		t.snp = p[3];
	} else {
		t.bootloader = p[0];
		t.tee = p[1];
		t.snp = p[6];
	}
	t.microcode = p[7];
	return t;
}

int attest_snp_parse(const uint8_t *buf, size_t len, struct attest_snp_report *ret, char *msg,
		     size_t msg_len)
{
	struct attest_snp_report r;

	if (len != ATTEST_SNP_REPORT_LEN) {
		snprintf(msg, msg_len, "report is %zu bytes, not %u", len, ATTEST_SNP_REPORT_LEN);
		return -EBADMSG;
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.raw, buf, len);
	r.version = le32(buf + OFF_VERSION);
	if (r.version < 2 || r.version > 5) {
		snprintf(msg, msg_len, "report version %u is not 2-5", r.version);
		return -EBADMSG;
	}
	r.guest_svn = le32(buf + OFF_GUEST_SVN);
	r.policy = le64(buf + OFF_POLICY);
	r.vmpl = le32(buf + OFF_VMPL);
	r.sig_algo = le32(buf + OFF_SIG_ALGO);
	r.plat_info = le64(buf + OFF_PLAT_INFO);
	r.key_info = le32(buf + OFF_KEY_INFO);
	if (r.version >= 3) {
		r.gen = gen_from_cpuid(buf[OFF_CPUID_FAM], buf[OFF_CPUID_MOD]);
		if (r.gen == ATTEST_SNP_GEN_UNKNOWN) {
			snprintf(msg, msg_len, "CPU family %02x model %02x is not a known SNP generation",
				 buf[OFF_CPUID_FAM], buf[OFF_CPUID_MOD]);
			return -EBADMSG;
		}
	}
	r.reported_tcb = decode_tcb(buf + OFF_REPORTED_TCB, r.gen);
	*ret = r;
	/* Pointers into ret's own copy of the bytes. */
	ret->report_data = ret->raw + OFF_REPORT_DATA;
	ret->measurement = ret->raw + OFF_MEASUREMENT;
	ret->host_data = ret->raw + OFF_HOST_DATA;
	ret->chip_id = ret->raw + OFF_CHIP_ID;
	return 0;
}

/* ---- serde JSON form -------------------------------------------------------- */

static int json_uint(const json_t *o, const char *key, uint64_t max, bool nullable, uint64_t *ret,
		     char *msg, size_t msg_len)
{
	json_t *v = json_object_get(o, key);

	if (nullable && (!v || json_is_null(v))) {
		*ret = 0;
		return 1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		/* u64 fields above INT64_MAX arrive as reals: refuse them too. */
		snprintf(msg, msg_len, "'attestation_report.%s' must be an integer 0..%llu", key,
			 (unsigned long long)max);
		return -EBADMSG;
	}
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int json_bytes(const json_t *o, const char *key, uint8_t *out, size_t n, char *msg,
		      size_t msg_len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_array(v) || json_array_size(v) != n) {
		snprintf(msg, msg_len, "'attestation_report.%s' must be an array of %zu bytes", key, n);
		return -EBADMSG;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *b = json_array_get(v, i);

		if (!json_is_integer(b) || json_integer_value(b) < 0 || json_integer_value(b) > 255) {
			snprintf(msg, msg_len, "'attestation_report.%s[%zu]' is not a byte", key, i);
			return -EBADMSG;
		}
		out[i] = (uint8_t)json_integer_value(b);
	}
	return 0;
}

static int json_tcb(const json_t *o, const char *key, enum attest_snp_gen g, uint8_t *out,
		    char *msg, size_t msg_len)
{
	json_t *t = json_object_get(o, key);
	uint64_t fmc, bl, tee, snp, uc;
	int r;

	if (!json_is_object(t)) {
		snprintf(msg, msg_len, "'attestation_report.%s' must be an object", key);
		return -EBADMSG;
	}
	if ((r = json_uint(t, "fmc", 255, true, &fmc, msg, msg_len)) < 0 ||
	    json_uint(t, "bootloader", 255, false, &bl, msg, msg_len) < 0 ||
	    json_uint(t, "tee", 255, false, &tee, msg, msg_len) < 0 ||
	    json_uint(t, "snp", 255, false, &snp, msg, msg_len) < 0 ||
	    json_uint(t, "microcode", 255, false, &uc, msg, msg_len) < 0) {
		snprintf(msg, msg_len, "'attestation_report.%s' is not a TCB version", key);
		return -EBADMSG;
	}
	memset(out, 0, 8);
	if (g == ATTEST_SNP_TURIN) {
		out[0] = (uint8_t)fmc;
		out[1] = (uint8_t)bl;
		out[2] = (uint8_t)tee;
		out[3] = (uint8_t)snp;
	} else {
		if (r == 0 && fmc) {
			snprintf(msg, msg_len, "'attestation_report.%s.fmc' is set before Turin", key);
			return -EBADMSG;
		}
		out[0] = (uint8_t)bl;
		out[1] = (uint8_t)tee;
		out[6] = (uint8_t)snp;
	}
	out[7] = (uint8_t)uc;
	return 0;
}

static int json_version(const json_t *o, const char *key, uint8_t *out, char *msg, size_t msg_len)
{
	json_t *v = json_object_get(o, key);
	uint64_t major, minor, build;

	if (!json_is_object(v) || json_uint(v, "major", 255, false, &major, msg, msg_len) < 0 ||
	    json_uint(v, "minor", 255, false, &minor, msg, msg_len) < 0 ||
	    json_uint(v, "build", 255, false, &build, msg, msg_len) < 0) {
		snprintf(msg, msg_len, "'attestation_report.%s' is not a firmware version", key);
		return -EBADMSG;
	}
	out[0] = (uint8_t)build;
	out[1] = (uint8_t)minor;
	out[2] = (uint8_t)major;
	return 0;
}

/* The sev crate's serde names and where each field sits in the binary report. */
static const struct {
	const char *key;
	size_t off, len;
} serde_arrays[] = {
	{ "family_id", OFF_FAMILY_ID, 16 },	  { "image_id", OFF_IMAGE_ID, 16 },
	{ "report_data", OFF_REPORT_DATA, 64 },	  { "measurement", OFF_MEASUREMENT, 48 },
	{ "host_data", OFF_HOST_DATA, 32 },	  { "id_key_digest", OFF_ID_KEY_DIGEST, 48 },
	{ "author_key_digest", OFF_AUTHOR_KEY_DIGEST, 48 },
	{ "report_id", OFF_REPORT_ID, 32 },	  { "report_id_ma", OFF_REPORT_ID_MA, 32 },
	{ "chip_id", OFF_CHIP_ID, 64 },
};
static const struct {
	const char *key;
	size_t off, len;
	uint64_t max;
} serde_ints[] = {
	{ "version", OFF_VERSION, 4, UINT32_MAX },   { "guest_svn", OFF_GUEST_SVN, 4, UINT32_MAX },
	{ "policy", OFF_POLICY, 8, INT64_MAX },	     { "vmpl", OFF_VMPL, 4, UINT32_MAX },
	{ "sig_algo", OFF_SIG_ALGO, 4, UINT32_MAX }, { "plat_info", OFF_PLAT_INFO, 8, INT64_MAX },
	{ "key_info", OFF_KEY_INFO, 4, UINT32_MAX },
};
static const char *const serde_tcbs[] = { "current_tcb", "reported_tcb", "committed_tcb", "launch_tcb" };
static const size_t serde_tcb_offs[] = { OFF_CURRENT_TCB, OFF_REPORTED_TCB, OFF_COMMITTED_TCB,
				   OFF_LAUNCH_TCB };

int attest_snp_from_json(const json_t *o, uint8_t out[ATTEST_SNP_REPORT_LEN], char *msg,
			 size_t msg_len)
{
	enum attest_snp_gen g = ATTEST_SNP_GEN_UNKNOWN;
	uint64_t v, fam, mod, step;
	json_t *sig;
	int r;

	if (!json_is_object(o)) {
		snprintf(msg, msg_len, "'attestation_report' must be an object");
		return -EBADMSG;
	}
	memset(out, 0, ATTEST_SNP_REPORT_LEN);
	for (size_t i = 0; i < ARRAY_SIZE(serde_ints); i++) {
		if (json_uint(o, serde_ints[i].key, serde_ints[i].max, false, &v, msg, msg_len) < 0)
			return -EBADMSG;
		put_le(out + serde_ints[i].off, v, serde_ints[i].len);
	}
	for (size_t i = 0; i < ARRAY_SIZE(serde_arrays); i++)
		if (json_bytes(o, serde_arrays[i].key, out + serde_arrays[i].off, serde_arrays[i].len, msg, msg_len) < 0)
			return -EBADMSG;
	r = json_uint(o, "cpuid_fam_id", 255, true, &fam, msg, msg_len);
	if (r < 0 || json_uint(o, "cpuid_mod_id", 255, true, &mod, msg, msg_len) < 0 ||
	    json_uint(o, "cpuid_step", 255, true, &step, msg, msg_len) < 0)
		return -EBADMSG;
	if (r == 0) {
		out[OFF_CPUID_FAM] = (uint8_t)fam;
		out[OFF_CPUID_MOD] = (uint8_t)mod;
		out[OFF_CPUID_STEP] = (uint8_t)step;
		g = gen_from_cpuid((uint8_t)fam, (uint8_t)mod);
	}
	for (size_t i = 0; i < ARRAY_SIZE(serde_tcbs); i++)
		if (json_tcb(o, serde_tcbs[i], g, out + serde_tcb_offs[i], msg, msg_len) < 0)
			return -EBADMSG;
	if (json_version(o, "current", out + OFF_CURRENT_VER, msg, msg_len) < 0 ||
	    json_version(o, "committed", out + OFF_COMMITTED_VER, msg, msg_len) < 0)
		return -EBADMSG;
	if (json_uint(o, "launch_mit_vector", INT64_MAX, true, &v, msg, msg_len) < 0)
		return -EBADMSG;
	put_le(out + OFF_LAUNCH_MIT, v, 8);
	if (json_uint(o, "current_mit_vector", INT64_MAX, true, &v, msg, msg_len) < 0)
		return -EBADMSG;
	put_le(out + OFF_CURRENT_MIT, v, 8);
	sig = json_object_get(o, "signature");
	if (!json_is_object(sig) || json_bytes(sig, "r", out + OFF_SIG_R, SIG_COMPONENT, msg, msg_len) < 0 ||
	    json_bytes(sig, "s", out + OFF_SIG_S, SIG_COMPONENT, msg, msg_len) < 0) {
		snprintf(msg, msg_len, "'attestation_report.signature' must be {r, s} of 72 bytes each");
		return -EBADMSG;
	}
	return 0;
}


static json_t *bytes_json(const uint8_t *p, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer(p[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *tcb_json(const uint8_t *t, enum attest_snp_gen g)
{
	if (g == ATTEST_SNP_TURIN)
		return json_pack("{s:i, s:i, s:i, s:i, s:i}", "fmc", t[0], "bootloader", t[1], "tee", t[2],
				 "snp", t[3], "microcode", t[7]);
	return json_pack("{s:n, s:i, s:i, s:i, s:i}", "fmc", "bootloader", t[0], "tee", t[1], "snp",
			 t[6], "microcode", t[7]);
}

int attest_snp_to_json(const uint8_t raw[ATTEST_SNP_REPORT_LEN], json_t **ret)
{
	uint32_t version = le32(raw + OFF_VERSION);
	enum attest_snp_gen g = ATTEST_SNP_GEN_UNKNOWN;
	json_t *o = json_object(), *sig;
	bool ok = o != NULL;

	for (size_t i = 0; ok && i < ARRAY_SIZE(serde_ints); i++) {
		uint64_t v = serde_ints[i].len == 8 ? le64(raw + serde_ints[i].off)
						   : le32(raw + serde_ints[i].off);

		if (v > serde_ints[i].max)
			ok = false;	/* a u64 serde cannot carry here: refuse, never truncate */
		else
			ok = json_object_set_new(o, serde_ints[i].key, json_integer((json_int_t)v)) == 0;
	}
	for (size_t i = 0; ok && i < ARRAY_SIZE(serde_arrays); i++)
		ok = json_object_set_new(o, serde_arrays[i].key,
					 bytes_json(raw + serde_arrays[i].off, serde_arrays[i].len)) == 0;
	/* CPUID fields exist from version 3, the mitigation vectors from version 5. */
	if (ok && version >= 3) {
		g = gen_from_cpuid(raw[OFF_CPUID_FAM], raw[OFF_CPUID_MOD]);
		ok = json_object_set_new(o, "cpuid_fam_id", json_integer(raw[OFF_CPUID_FAM])) == 0 &&
		     json_object_set_new(o, "cpuid_mod_id", json_integer(raw[OFF_CPUID_MOD])) == 0 &&
		     json_object_set_new(o, "cpuid_step", json_integer(raw[OFF_CPUID_STEP])) == 0;
	} else if (ok) {
		ok = json_object_set_new(o, "cpuid_fam_id", json_null()) == 0 &&
		     json_object_set_new(o, "cpuid_mod_id", json_null()) == 0 &&
		     json_object_set_new(o, "cpuid_step", json_null()) == 0;
	}
	for (size_t i = 0; ok && i < ARRAY_SIZE(serde_tcbs); i++)
		ok = json_object_set_new(o, serde_tcbs[i], tcb_json(raw + serde_tcb_offs[i], g)) == 0;
	if (ok)
		ok = json_object_set_new(o, "current",
					 json_pack("{s:i, s:i, s:i}", "major", raw[OFF_CURRENT_VER + 2],
						   "minor", raw[OFF_CURRENT_VER + 1], "build",
						   raw[OFF_CURRENT_VER])) == 0 &&
		     json_object_set_new(o, "committed",
					 json_pack("{s:i, s:i, s:i}", "major", raw[OFF_COMMITTED_VER + 2],
						   "minor", raw[OFF_COMMITTED_VER + 1], "build",
						   raw[OFF_COMMITTED_VER])) == 0;
	if (ok && version >= 5) {
		uint64_t l = le64(raw + OFF_LAUNCH_MIT), c = le64(raw + OFF_CURRENT_MIT);

		ok = l <= INT64_MAX && c <= INT64_MAX &&
		     json_object_set_new(o, "launch_mit_vector", json_integer((json_int_t)l)) == 0 &&
		     json_object_set_new(o, "current_mit_vector", json_integer((json_int_t)c)) == 0;
	}
	sig = ok ? json_pack("{s:o, s:o}", "r", bytes_json(raw + OFF_SIG_R, SIG_COMPONENT), "s",
			     bytes_json(raw + OFF_SIG_S, SIG_COMPONENT))
		 : NULL;
	if (!sig || json_object_set_new(o, "signature", sig) < 0) {
		json_decref(o);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

/* ---- endorsement -------------------------------------------------------------- */

struct vendor {
	X509 *ask, *ark, *asvk;
	bool builtin;		/* shared, parsed once: not freed */
	bool roots_ok;		/* ARK self-signed, ASK and ASVK signed by it */
};

static void vendor_done(struct vendor *v)
{
	if (v->builtin)
		return;
	X509_free(v->ask);
	X509_free(v->ark);
	X509_free(v->asvk);
}

static int vendor_parse(const char *pem, size_t len, struct vendor *ret)
{
	X509 **slots[] = { &ret->ask, &ret->ark, &ret->asvk };
	EVP_PKEY *ark;
	BIO *bio;

	memset(ret, 0, sizeof(*ret));
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(slots); i++)
		*slots[i] = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!ret->ask || !ret->ark || !ret->asvk) {
		vendor_done(ret);
		return -EBADMSG;
	}
	ark = X509_get0_pubkey(ret->ark);
	ret->roots_ok = ark && X509_verify(ret->ark, ark) == 1 && X509_verify(ret->ask, ark) == 1 &&
			X509_verify(ret->asvk, ark) == 1;
	return 0;
}

/*
 * The built-in certificates are parsed and their three RSA-4096 signatures
 * checked once per process: they are constants, and this is most of an SNP
 * verification's cost.
 */
static struct vendor builtin[3];
static int builtin_err[3];
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void builtin_init(void)
{
	const char *pems[3] = { attest_snp_milan_certs, attest_snp_genoa_certs, attest_snp_turin_certs };

	for (int i = 0; i < 3; i++) {
		builtin_err[i] = vendor_parse(pems[i], strlen(pems[i]), &builtin[i]);
		builtin[i].builtin = true;
	}
}

/* AMD's certificates for a generation: <trust_dir>/snp/<gen>_ask_ark_asvk.pem, else built in. */
static int vendor_load(enum attest_snp_gen g, const struct attest_verify_opts *opts,
		       struct vendor *ret)
{
	_cleanup_free_ uint8_t *file = NULL;
	char rel[64];
	size_t len;
	int i = g == ATTEST_SNP_MILAN ? 0 : g == ATTEST_SNP_GENOA ? 1 : 2;

	snprintf(rel, sizeof(rel), "snp/%s_ask_ark_asvk.pem", gen_name(g));
	if (attest_trust_read(opts, rel, &file, &len) == 0)
		return vendor_parse((const char *)file, len, ret);
	if (pthread_once(&builtin_once, builtin_init) != 0)
		return -ENOMEM;
	if (builtin_err[i] < 0)
		return builtin_err[i];
	*ret = builtin[i];
	return 0;
}

/* DER INTEGER inside an AMD extension, or -1 when absent or malformed. */
static long amd_ext_int(X509 *cert, const char *oid_suffix)
{
	char oid[64];
	ASN1_OBJECT *obj;
	const ASN1_OCTET_STRING *os;
	const unsigned char *p;
	ASN1_INTEGER *ai;
	int64_t v;
	long ret = -1;
	int idx;

	snprintf(oid, sizeof(oid), AMD_OID ".%s", oid_suffix);
	obj = OBJ_txt2obj(oid, 1);
	if (!obj)
		return -1;
	idx = X509_get_ext_by_OBJ(cert, obj, -1);
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return -1;
	os = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	p = ASN1_STRING_get0_data(os);
	ai = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(os));
	if (ai && p == ASN1_STRING_get0_data(os) + ASN1_STRING_length(os) &&
	    ASN1_INTEGER_get_int64(&v, ai) == 1 && v >= 0 && v <= 255)
		ret = (long)v;
	ASN1_INTEGER_free(ai);
	return ret;
}

/* The VCEK's hwID: raw bytes or a DER OCTET STRING around them. */
static int amd_hwid(X509 *cert, const uint8_t **ret, size_t *ret_len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(AMD_OID ".4", 1);
	const ASN1_OCTET_STRING *os;
	const uint8_t *p;
	size_t n;
	int idx;

	if (!obj)
		return -ENOMEM;
	idx = X509_get_ext_by_OBJ(cert, obj, -1);
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return -ENOENT;
	os = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	p = ASN1_STRING_get0_data(os);
	n = (size_t)ASN1_STRING_length(os);
	if ((n == 66 && p[0] == 0x04 && p[1] == 64) || (n == 10 && p[0] == 0x04 && p[1] == 8)) {
		p += 2;
		n -= 2;
	}
	*ret = p;
	*ret_len = n;
	return 0;
}

static int check_tcb(X509 *vek, const struct attest_snp_report *r, enum attest_snp_gen g,
		     char *msg, size_t msg_len)
{
	struct attest_snp_tcb t = decode_tcb(r->raw + OFF_REPORTED_TCB, g);
	const struct {
		const char *oid, *name;
		uint8_t want;
	} f[] = {
		{ "3.1", "bootloader", t.bootloader }, { "3.2", "tee", t.tee },
		{ "3.3", "snp", t.snp },	       { "3.8", "microcode", t.microcode },
		{ "3.9", "fmc", t.fmc },
	};

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		long v;

		if (i == 4 && g != ATTEST_SNP_TURIN)
			break;
		v = amd_ext_int(vek, f[i].oid);
		if (v != f[i].want) {
			snprintf(msg, msg_len, "VEK %s SPL %ld is not the reported TCB's %u", f[i].name, v,
				 f[i].want);
			return -EKEYREJECTED;
		}
	}
	return 0;
}

static int check_report_signature(X509 *vek, const struct attest_snp_report *r, char *msg,
				  size_t msg_len)
{
	EVP_PKEY *pk = X509_get0_pubkey(vek);
	uint8_t rb[P384_LEN], sb[P384_LEN];
	unsigned char *der = NULL;
	char group[32];
	ECDSA_SIG *sig;
	BIGNUM *br, *bs;
	EVP_MD_CTX *ctx;
	int n, ok;

	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "secp384r1") != 0) {
		snprintf(msg, msg_len, "VEK is not an ECDSA P-384 key");
		return -EKEYREJECTED;
	}
	/* r and s are little-endian, zero-extended to 72 bytes. */
	for (size_t i = P384_LEN; i < SIG_COMPONENT; i++)
		if (r->raw[OFF_SIG_R + i] || r->raw[OFF_SIG_S + i]) {
			snprintf(msg, msg_len, "report signature has bytes beyond P-384");
			return -EKEYREJECTED;
		}
	for (size_t i = 0; i < P384_LEN; i++) {
		rb[i] = r->raw[OFF_SIG_R + P384_LEN - 1 - i];
		sb[i] = r->raw[OFF_SIG_S + P384_LEN - 1 - i];
	}
	sig = ECDSA_SIG_new();
	br = BN_bin2bn(rb, P384_LEN, NULL);
	bs = BN_bin2bn(sb, P384_LEN, NULL);
	if (!sig || !br || !bs || ECDSA_SIG_set0(sig, br, bs) != 1) {
		ECDSA_SIG_free(sig);
		BN_free(br);
		BN_free(bs);
		return -ENOMEM;
	}
	n = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return -ENOMEM;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha384(), NULL, pk) == 1 &&
	     EVP_DigestVerify(ctx, der, (size_t)n, r->raw, ATTEST_SNP_SIGNED_LEN) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	if (!ok) {
		snprintf(msg, msg_len, "report signature does not verify with the VEK");
		return -EKEYREJECTED;
	}
	return 0;
}

/* ARK self-signed, ARK -> intermediate (checked at load), intermediate -> VEK. */
static bool chain_ok(const struct vendor *v, X509 *inter, X509 *vek)
{
	EVP_PKEY *ik = X509_get0_pubkey(inter);

	return v->roots_ok && ik && X509_verify(vek, ik) == 1;
}

static X509 *vek_from_cache(const struct attest_snp_report *r, enum attest_snp_gen g,
			    const struct attest_verify_opts *opts)
{
	struct attest_snp_tcb t = decode_tcb(r->raw + OFF_REPORTED_TCB, g);
	size_t hwlen = g == ATTEST_SNP_TURIN ? 8 : 64, len;
	_cleanup_free_ char *hw = attest_hex(r->chip_id, hwlen);
	_cleanup_free_ uint8_t *der = NULL;
	char rel[512], fmc[16] = "";
	const unsigned char *p;
	X509 *x;

	if (!hw)
		return NULL;
	if (g == ATTEST_SNP_TURIN)
		snprintf(fmc, sizeof(fmc), "_fmc%02u", t.fmc);
	snprintf(rel, sizeof(rel), "vcek/%s/bl%02u_tee%02u_snp%02u_ucode%02u%s_vcek.der", hw,
		 t.bootloader, t.tee, t.snp, t.microcode, fmc);
	if (attest_trust_read(opts, rel, &der, &len) < 0) {
		snprintf(rel, sizeof(rel), "vcek/%s/vcek.der", hw);
		if (attest_trust_read(opts, rel, &der, &len) < 0)
			return NULL;
	}
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int verify_gen(const struct attest_snp_report *r, enum attest_snp_gen g, X509 *vek,
		      const struct attest_verify_opts *opts, char *msg, size_t msg_len)
{
	unsigned int signer = (r->key_info >> 2) & 7;
	struct vendor v;
	const uint8_t *hw;
	size_t hwlen, want;
	int ret;

	ret = vendor_load(g, opts, &v);
	if (ret < 0) {
		snprintf(msg, msg_len, "AMD certificates for %s do not load", gen_name(g));
		return ret == -ENOMEM ? ret : -EKEYREJECTED;
	}
	if (!chain_ok(&v, signer == ATTEST_SNP_VLEK ? v.asvk : v.ask, vek)) {
		vendor_done(&v);
		return 1;	/* the caller names the generations it tried */
	}
	vendor_done(&v);
	ret = check_tcb(vek, r, g, msg, msg_len);
	if (ret < 0)
		return ret;
	if (signer == ATTEST_SNP_VCEK) {
		/* A VCEK belongs to one chip (Turin: the first 8 bytes of CHIP_ID). */
		want = g == ATTEST_SNP_TURIN ? 8 : 64;
		if (amd_hwid(vek, &hw, &hwlen) < 0 || hwlen != want || memcmp(hw, r->chip_id, want)) {
			snprintf(msg, msg_len, "the VCEK's hwID is not the report's CHIP_ID");
			return -EKEYREJECTED;
		}
	}
	return check_report_signature(vek, r, msg, msg_len);
}

int attest_snp_verify(const struct attest_snp_report *r, const uint8_t *vek_der, size_t vek_len,
		      const struct attest_verify_opts *opts, char *msg, size_t msg_len)
{
	static const enum attest_snp_gen pre_v3[] = { ATTEST_SNP_MILAN, ATTEST_SNP_GENOA };
	unsigned int signer = (r->key_info >> 2) & 7;
	char tried[32] = "";
	int ret = -EKEYREJECTED;

	if (signer != ATTEST_SNP_VCEK && signer != ATTEST_SNP_VLEK) {
		snprintf(msg, msg_len, "report is not signed by a VCEK or VLEK (KEY_INFO %x)",
			 r->key_info);
		return -EKEYREJECTED;
	}
	/* A v2 report names no CPU: try the generations that wrote v2 reports. */
	for (size_t i = 0; i < ARRAY_SIZE(pre_v3); i++) {
		enum attest_snp_gen g = r->gen != ATTEST_SNP_GEN_UNKNOWN ? r->gen : pre_v3[i];
		const unsigned char *p = vek_der;
		X509 *vek = NULL;

		if (vek_der) {
			vek = d2i_X509(NULL, &p, (long)vek_len);
			if (!vek || p != vek_der + vek_len) {
				X509_free(vek);
				snprintf(msg, msg_len, "the VEK certificate is not DER X.509");
				return -EBADMSG;
			}
		} else if (signer == ATTEST_SNP_VCEK) {
			vek = vek_from_cache(r, g, opts);
		}
		if (!vek) {
			snprintf(msg, msg_len, "no %s for this chip and TCB in the evidence or the cache",
				 signer == ATTEST_SNP_VLEK ? "VLEK" : "VCEK");
			ret = -EKEYREJECTED;
		} else {
			ret = verify_gen(r, g, vek, opts, msg, msg_len);
			X509_free(vek);
		}
		if (ret == 1) {
			snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s",
				 tried[0] ? " or " : "", gen_name(g));
			snprintf(msg, msg_len, "the %s does not chain to AMD's %s ARK",
				 signer == ATTEST_SNP_VLEK ? "VLEK" : "VCEK", tried);
			ret = -EKEYREJECTED;
			if (r->gen == ATTEST_SNP_GEN_UNKNOWN)
				continue;
		}
		break;
	}
	return ret;
}

/* ---- claims ------------------------------------------------------------------- */

static int set_num(json_t *c, const char *k, uint64_t v, bool str)
{
	char buf[24];

	if (!str)
		return json_object_set_new(c, k, json_integer((json_int_t)v));
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_object_set_new(c, k, json_string(buf));
}

static int set_bool(json_t *c, const char *k, bool v, bool str)
{
	if (str)
		return json_object_set_new(c, k, json_string(v ? "true" : "false"));
	return json_object_set_new(c, k, json_boolean(v));
}

int attest_snp_claims(const struct attest_snp_report *r, bool s, json_t *c)
{
	const struct attest_snp_tcb *t = &r->reported_tcb;
	int e = 0;

	e |= set_num(c, "policy_abi_major", (r->policy >> 8) & 0xff, s);
	e |= set_num(c, "policy_abi_minor", r->policy & 0xff, s);
	e |= set_bool(c, "policy_smt_allowed", r->policy & (1u << 16), s);
	e |= set_bool(c, "policy_migrate_ma", r->policy & (1u << 18), s);
	e |= set_bool(c, "policy_debug_allowed", r->policy & (1u << 19), s);
	e |= set_bool(c, "policy_single_socket", r->policy & (1u << 20), s);
	e |= set_num(c, "reported_tcb_bootloader", t->bootloader, s);
	e |= set_num(c, "reported_tcb_tee", t->tee, s);
	e |= set_num(c, "reported_tcb_snp", t->snp, s);
	e |= set_num(c, "reported_tcb_microcode", t->microcode, s);
	if (r->gen == ATTEST_SNP_TURIN)
		e |= set_num(c, "reported_tcb_fmc", t->fmc, s);
	e |= set_bool(c, "platform_tsme_enabled", r->plat_info & 2, s);
	e |= set_bool(c, "platform_smt_enabled", r->plat_info & 1, s);
	e |= set_num(c, "report_version", r->version, s);
	e |= set_num(c, "guest_svn", r->guest_svn, s);
	e |= set_num(c, "vmpl", r->vmpl, s);
	e |= json_object_set_new(c, "signing_key",
				 json_string(((r->key_info >> 2) & 7) == ATTEST_SNP_VLEK ? "vlek" : "vcek"));
	if (e)
		return -ENOMEM;
	if (attest_set_hex(c, "measurement", r->measurement, 48) < 0 ||
	    attest_set_hex(c, "chip_id", r->chip_id, 64) < 0 ||
	    attest_set_hex(c, "report_data", r->report_data, 64) < 0 ||
	    attest_set_hex(c, "init_data", r->host_data, 32) < 0)
		return -ENOMEM;
	return 0;
}
