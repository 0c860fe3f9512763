// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ECDSA signature chain inside a DCAP quote (v4/v5 signature data,
 * certification data type 6 = QE report, nested type 5 = PCK chain PEM).
 */
#include "attest/tdx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/verify_util.h"
#include "lib/cleanup.h"

#define SIG_LEN 64u
#define KEY_LEN 64u
#define QE_REPORT_LEN 384u
#define QE_REPORT_DATA 320u
#define CERT_QE_REPORT 6u
#define CERT_PCK_CHAIN 5u
#define CHAIN_MAX 4

static uint32_t le(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static EVP_PKEY *p256_key(const uint8_t xy[KEY_LEN])
{
	uint8_t point[1 + KEY_LEN];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;

	point[0] = 0x04;
	memcpy(point + 1, xy, KEY_LEN);
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) == 1)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return k;
}

/* ECDSA P-256/SHA-256, signature as r || s big-endian. */
static bool ecdsa_ok(EVP_PKEY *k, const uint8_t rs[SIG_LEN], const uint8_t *msg, size_t len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, 32, NULL), *ss = BN_bin2bn(rs + 32, 32, NULL);
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx = NULL;
	bool ok = false;
	int n;

	if (!s || !r || !ss || ECDSA_SIG_set0(s, r, ss) != 1) {
		ECDSA_SIG_free(s);
		BN_free(r);
		BN_free(ss);
		return false;
	}
	n = i2d_ECDSA_SIG(s, &der);
	ECDSA_SIG_free(s);
	ctx = EVP_MD_CTX_new();
	ok = n > 0 && ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
	     EVP_DigestVerify(ctx, der, (size_t)n, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

static int chain_ok(const uint8_t *pem, size_t len, X509 **ret_leaf, char *msg, size_t msg_len)
{
	X509 *c[CHAIN_MAX + 1] = { 0 };
	uint8_t fp[32], want[32];
	unsigned int fplen;
	int n = 0, r = -EKEYREJECTED;
	BIO *bio = BIO_new_mem_buf(pem, (int)len);

	if (!bio)
		return -ENOMEM;
	while (n <= CHAIN_MAX && (c[n] = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		n++;
	BIO_free(bio);
	if (n != 3) {
		snprintf(msg, msg_len, "the PCK chain holds %d certificates, not 3", n);
		r = -EBADMSG;
		goto out;
	}
	/* The root is Intel's, byte for byte; each certificate is signed by the next. */
	if (attest_unhex(ATTEST_INTEL_SGX_ROOT_SHA256, want, sizeof(want)) < 0 ||
	    X509_digest(c[2], EVP_sha256(), fp, &fplen) != 1 || fplen != 32 ||
	    memcmp(fp, want, 32) != 0) {
		snprintf(msg, msg_len, "the PCK chain does not end at Intel's SGX root CA");
		goto out;
	}
	if (X509_verify(c[2], X509_get0_pubkey(c[2])) != 1 ||
	    X509_verify(c[1], X509_get0_pubkey(c[2])) != 1 ||
	    X509_verify(c[0], X509_get0_pubkey(c[1])) != 1) {
		snprintf(msg, msg_len, "the PCK certificate chain does not verify");
		goto out;
	}
	*ret_leaf = c[0];
	c[0] = NULL;
	r = 0;
out:
	for (int i = 0; i < n; i++)
		X509_free(c[i]);
	return r;
}

int attest_tdx_quote_signature(const uint8_t *quote, size_t signed_len, const uint8_t *sig,
			       size_t sig_len, char *msg, size_t msg_len)
{
	const uint8_t *cert, *qe, *auth, *pem;
	size_t cert_len, auth_len, pem_len, off;
	uint8_t digest[32];
	EVP_MD_CTX *md;
	EVP_PKEY *ak;
	X509 *leaf = NULL;
	bool ok;
	int r;

	if (sig_len < SIG_LEN + KEY_LEN + 6 || le(sig + 128, 2) != CERT_QE_REPORT) {
		snprintf(msg, msg_len, "quote signature data carries no QE report certification");
		return -EBADMSG;
	}
	cert_len = le(sig + 130, 4);
	cert = sig + 134;
	if (cert_len > sig_len - 134 || cert_len < QE_REPORT_LEN + SIG_LEN + 2) {
		snprintf(msg, msg_len, "quote certification data is truncated");
		return -EBADMSG;
	}
	qe = cert;
	auth_len = le(cert + QE_REPORT_LEN + SIG_LEN, 2);
	auth = cert + QE_REPORT_LEN + SIG_LEN + 2;
	off = QE_REPORT_LEN + SIG_LEN + 2 + auth_len;
	if (off + 6 > cert_len || le(cert + off, 2) != CERT_PCK_CHAIN) {
		snprintf(msg, msg_len, "quote certification data carries no PCK chain");
		return -EBADMSG;
	}
	pem_len = le(cert + off + 2, 4);
	pem = cert + off + 6;
	if (pem_len > cert_len - off - 6 || pem_len > INT32_MAX) {
		snprintf(msg, msg_len, "quote PCK chain is truncated");
		return -EBADMSG;
	}

	/* 1. The attestation key signed the header and the TD report. */
	ak = p256_key(sig + SIG_LEN);
	if (!ak) {
		snprintf(msg, msg_len, "quote attestation key is not a P-256 point");
		return -EKEYREJECTED;
	}
	ok = ecdsa_ok(ak, sig, quote, signed_len);
	EVP_PKEY_free(ak);
	if (!ok) {
		snprintf(msg, msg_len, "quote signature does not verify with its attestation key");
		return -EKEYREJECTED;
	}
	/* 2. The QE report vouches for that key. */
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, sig + SIG_LEN, KEY_LEN) == 1 &&
	     EVP_DigestUpdate(md, auth, auth_len) == 1 && EVP_DigestFinal_ex(md, digest, NULL) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -ENOMEM;
	for (size_t i = 32; i < 64; i++)
		if (qe[QE_REPORT_DATA + i])
			digest[0] ^= 1;	/* a non-zero tail fails the compare below */
	if (memcmp(digest, qe + QE_REPORT_DATA, 32) != 0) {
		snprintf(msg, msg_len, "the QE report does not bind the attestation key");
		return -EKEYREJECTED;
	}
	/* 3. Intel's root -> PCK, and the PCK key signed the QE report. */
	r = chain_ok(pem, pem_len, &leaf, msg, msg_len);
	if (r < 0)
		return r;
	ok = ecdsa_ok(X509_get0_pubkey(leaf), cert + QE_REPORT_LEN, qe, QE_REPORT_LEN);
	X509_free(leaf);
	if (!ok) {
		snprintf(msg, msg_len, "the QE report signature does not verify with the PCK key");
		return -EKEYREJECTED;
	}
	return 0;
}
