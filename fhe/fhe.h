/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil's RNS-CKKS library (libveil-fhe.a): the public API.
 *
 * Life of a sealed dense layer (see docs/fhe.md for the full story):
 *
 *   model owner    fhe_params_preset(FHE_PRESET_DENSE_8192, &p);
 *                  fhe_keygen(p, seed, &sk); fhe_public_key_new(sk, &pk);
 *                  fhe_dense_seal(p, NULL, sk, W, b, m, n, &layer);  (or pk instead of sk)
 *   model user     fhe_dense_eval(layer, h, &out, &count);  -- one product, one rescale, masked
 *   key holder     fhe_dense_decrypt(sk, geometry, out, count, NULL, y);  -- flooded outputs only
 *                  (geometry from fhe_dense_geometry(p, m, n, &g): no ciphertexts needed)
 *
 * Conventions: functions return 0 or a negative errno; output parameters are
 * ret_* and written only on success; objects are freed with *_free (NULL ok).
 * Every object remembers the parameter set it belongs to; mixing sets is -EINVAL.
 * Nothing here logs above debug. Secret material lives in lib/secmem memory.
 */
#ifndef VEIL_FHE_FHE_H
#define VEIL_FHE_FHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FHE_SEED_SIZE 32
#define FHE_HASH_SIZE 32
#define FHE_MAX_PRIMES 8
#define FHE_MIN_LOG_N 12	/* N = 4096 */
#define FHE_MAX_LOG_N 15	/* N = 32768 */
#define FHE_MAX_PRIME_BITS 50	/* lazy values < 4q fit 52 bits: the IFMA path */
#define FHE_MIN_PRIME_BITS 30

/* ---- parameters ------------------------------------------------------------ */

struct fhe_params;

/*
 * Named sets for sealed dense layers: depth 1, no key switching, no special
 * prime. Chain {q0, q1, qs}: qs is the rescaling prime, h is encoded at scale
 * qs and W at FHE_DENSE_WEIGHT_SCALE, so outputs land at that scale on {q0, q1}.
 */
enum fhe_preset {
	FHE_PRESET_DENSE_8192 = 1,	/* N=8192,  log2 Q = 145 <= 218 */
	FHE_PRESET_DENSE_16384 = 2,	/* N=16384, log2 Q = 145 <= 438 */
	FHE_PRESET_DENSE_32768 = 3,	/* N=32768, log2 Q = 145 <= 881 */
};
#define FHE_DENSE_WEIGHT_SCALE 0x1p62

/*
 * Primes q_i = 1 mod 2N, the largest below 2^bits[i] not already used,
 * found deterministically. -EINVAL for a bad N or bit size, -EPERM when the
 * chain would be below 128-bit security (HomomorphicEncryption.org table,
 * ternary secret).
 */
int fhe_params_new(unsigned log_n, unsigned nprimes, const unsigned *bits,
		   struct fhe_params **ret);
int fhe_params_preset(enum fhe_preset preset, struct fhe_params **ret);
/* Parameters are shared: references are counted atomically, any thread may take or drop one. */
struct fhe_params *fhe_params_ref(struct fhe_params *p);
void fhe_params_free(struct fhe_params *p);	/* drops a reference */

unsigned fhe_params_n(const struct fhe_params *p);
unsigned fhe_params_nprimes(const struct fhe_params *p);
uint64_t fhe_params_prime(const struct fhe_params *p, unsigned i);
unsigned fhe_params_preset_id(const struct fhe_params *p);	/* 0 when custom */
const uint8_t *fhe_params_hash(const struct fhe_params *p);	/* SHA-256 of N and primes */
/* Max log2 Q for 128-bit classical security at this N, or -EINVAL. */
int fhe_security_max_logq(unsigned log_n);
/* 0 when (log_n, log2 Q) is >= 128-bit secure, else -EPERM (or -EINVAL). */
int fhe_security_check(unsigned log_n, double logq);

/* ---- NTT implementation selection ----------------------------------------- */

enum fhe_isa {
	FHE_ISA_AUTO = 0,	/* best the CPU has */
	FHE_ISA_PORTABLE = 1,
	FHE_ISA_AVX2 = 2,
	FHE_ISA_AVX512IFMA = 3,
};
/*
 * Forces a path for the whole process (tests, benchmarks); -ENOTSUP when the
 * CPU lacks it. The environment variable VEIL_FHE_ISA=portable|avx2|avx512ifma
 * does the same at first use. All paths give bit-identical results.
 */
int fhe_set_isa(enum fhe_isa isa);
enum fhe_isa fhe_get_isa(void);
bool fhe_isa_supported(enum fhe_isa isa);
const char *fhe_isa_name(enum fhe_isa isa);

/* Raw negacyclic NTT on one prime (tests, benchmarks): a has N values < q_i. */
int fhe_ntt_forward(const struct fhe_params *p, unsigned prime, uint64_t *a);
int fhe_ntt_inverse(const struct fhe_params *p, unsigned prime, uint64_t *a);

/* ---- keys ------------------------------------------------------------------ */

struct fhe_secret_key;
struct fhe_public_key;

/*
 * The secret is expanded from a 32-byte seed (SHAKE256 + AES-256-CTR), so its
 * compact form is seed + parameter set. Ternary coefficients, constant time.
 * fhe_keygen_random draws the seed from OpenSSL's CSPRNG.
 */
int fhe_keygen(struct fhe_params *p, const uint8_t seed[FHE_SEED_SIZE],
	       struct fhe_secret_key **ret);
int fhe_keygen_random(struct fhe_params *p, struct fhe_secret_key **ret);
/* The public key is deterministic in the secret's seed. */
int fhe_public_key_new(const struct fhe_secret_key *sk, struct fhe_public_key **ret);
void fhe_secret_key_free(struct fhe_secret_key *sk);
void fhe_public_key_free(struct fhe_public_key *pk);
const struct fhe_params *fhe_secret_key_params(const struct fhe_secret_key *sk);
const struct fhe_params *fhe_public_key_params(const struct fhe_public_key *pk);

/* ---- plaintexts and encoding ------------------------------------------------ */

enum fhe_encoding {
	FHE_ENC_NONE = 0,
	FHE_ENC_COEFFS = 1,	/* value k at coefficient k */
	FHE_ENC_SLOTS = 2,	/* N/2 complex slots, canonical embedding */
};

struct fhe_plaintext {
	struct fhe_params *params;
	unsigned level;		/* primes in use: 1..nprimes */
	enum fhe_encoding encoding;
	bool ntt;		/* evaluation form */
	double scale;
	unsigned precision_bits; /* set by flooded decryption: decode rounds to 2^-bits */
	uint64_t *data;		/* level * N residues, prime-major */
};

struct fhe_plaintext *fhe_plaintext_new(struct fhe_params *p, unsigned level);
void fhe_plaintext_free(struct fhe_plaintext *pt);

/* values[k] * scale at coefficient k (count <= N); result in NTT form. */
int fhe_encode_coeffs(struct fhe_params *p, const double *values, size_t count, double scale,
		      unsigned level, struct fhe_plaintext **ret);
/* Real values in slots 0..count-1 (count <= N/2); result in NTT form. */
int fhe_encode_slots(struct fhe_params *p, const double *values, size_t count, double scale,
		     unsigned level, struct fhe_plaintext **ret);
/* Complex slots: re[k] + i*im[k]. */
int fhe_encode_slots_complex(struct fhe_params *p, const double *re, const double *im,
			     size_t count, double scale, unsigned level,
			     struct fhe_plaintext **ret);
/* The constant polynomial value*scale (every slot = value). */
int fhe_encode_scalar(struct fhe_params *p, double value, double scale, unsigned level,
		      struct fhe_plaintext **ret);
/* Decoding works on either form; the plaintext is not changed. */
int fhe_decode_coeffs(const struct fhe_plaintext *pt, const size_t *idx, size_t count,
		      double *out);
int fhe_decode_slots(const struct fhe_plaintext *pt, size_t count, double *re, double *im);

/* ---- ciphertexts ------------------------------------------------------------ */

struct fhe_ciphertext {
	struct fhe_params *params;
	unsigned level;
	enum fhe_encoding encoding;
	double scale;
	bool seeded;		/* c1 expands from seed (symmetric encryption) */
	uint8_t seed[FHE_SEED_SIZE];
	uint64_t *c0, *c1;	/* level * N residues each, NTT form */
};

struct fhe_ciphertext *fhe_ciphertext_new(struct fhe_params *p, unsigned level);
void fhe_ciphertext_free(struct fhe_ciphertext *ct);
int fhe_ciphertext_copy(const struct fhe_ciphertext *ct, struct fhe_ciphertext **ret);

int fhe_encrypt(const struct fhe_public_key *pk, const struct fhe_plaintext *pt,
		struct fhe_ciphertext **ret);
/* Symmetric, with c1 from a fresh seed: serializes to half the size. */
int fhe_encrypt_symmetric(const struct fhe_secret_key *sk, const struct fhe_plaintext *pt,
			  struct fhe_ciphertext **ret);

/*
 * IND-CPA-D mitigation (Li-Micciancio): decryption adds a Gaussian of
 * sigma = sqrt(12 * 2^log2_queries) * 2^(stat_sec/2) * 2^noise_log2 to every
 * coefficient (OpenFHE's NOISE_FLOODING_DECRYPT formula), then decoding rounds
 * away the bits below it. noise_log2 bounds the std of the noise an honest
 * ciphertext carries, in integer units at decryption. Defaults below keep
 * >= 20 bits after the binary point at scale 2^62 (the dense presets).
 */
struct fhe_flood {
	unsigned stat_sec;
	unsigned log2_queries;
	unsigned noise_log2;
};
#define FHE_FLOOD_STAT_SEC 30
#define FHE_FLOOD_LOG2_QUERIES 16
#define FHE_FLOOD_NOISE_LOG2 14
/* log2 of the flooding sigma for a configuration (NULL: defaults). */
double fhe_flood_log2_sigma(const struct fhe_flood *f);
/* Documented absolute error bound of a flooded output at a scale: 8 sigma / scale. */
double fhe_flood_bound(const struct fhe_flood *f, double scale);

int fhe_decrypt(const struct fhe_secret_key *sk, const struct fhe_ciphertext *ct,
		const struct fhe_flood *flood, struct fhe_plaintext **ret);
/*
 * The key holder's call: decrypt, flood only the coefficients it releases,
 * decode and round them into out[count]. Nothing else leaves.
 */
int fhe_decrypt_coeffs(const struct fhe_secret_key *sk, const struct fhe_ciphertext *ct,
		       const size_t *idx, size_t count, const struct fhe_flood *flood,
		       double *out);
/* No mitigation: for tests and noise measurement inside the key holder only. */
int fhe_decrypt_unflooded(const struct fhe_secret_key *sk, const struct fhe_ciphertext *ct,
			  struct fhe_plaintext **ret);

/* ---- evaluation ------------------------------------------------------------- */

int fhe_add(struct fhe_ciphertext *a, const struct fhe_ciphertext *b);	/* a += b */
int fhe_sub(struct fhe_ciphertext *a, const struct fhe_ciphertext *b);	/* a -= b */
int fhe_add_plain(struct fhe_ciphertext *a, const struct fhe_plaintext *pt);
int fhe_mul_plain(struct fhe_ciphertext *a, const struct fhe_plaintext *pt);	/* scales multiply */
/* Multiply by round(value * scale); the ciphertext's scale grows by `scale`. */
int fhe_mul_scalar(struct fhe_ciphertext *a, double value, double scale);
/* Divide by the last prime, scale /= q_last, one level less. */
int fhe_rescale(struct fhe_ciphertext *a);
/* Drop primes down to `level` (scale unchanged). */
int fhe_drop_to_level(struct fhe_ciphertext *a, unsigned level);

/* ---- coefficient-packed dense layers: y = W h + b ------------------------------ */

/*
 * W (m x n, row-major) and b are packed into ceil(m / rows) * ceil((n+1) / cols)
 * ciphertexts. Within a block of `cols` inputs (the bias is column n, h_n = 1),
 * row r sits at coefficients r*cols .. r*cols+cols-1 reversed, so coefficient
 * r*cols + cols-1 of w(X) h(X) is the block's part of y_r. Blocks of the same
 * rows add up before the rescale.
 */
struct fhe_dense {
	struct fhe_params *params;
	unsigned m, n;			/* outputs, inputs */
	unsigned cols;			/* inputs per block (incl. bias column) */
	unsigned rows;			/* outputs per ciphertext */
	unsigned row_blocks, col_blocks;
	struct fhe_ciphertext **ct;	/* row_blocks * col_blocks, row-block major */
};

/* Exactly one of pk and sk: sk gives seeded (half-size) ciphertexts. */
int fhe_dense_seal(struct fhe_params *p, const struct fhe_public_key *pk,
		   const struct fhe_secret_key *sk, const double *W, const double *b,
		   unsigned m, unsigned n, struct fhe_dense **ret);
void fhe_dense_free(struct fhe_dense *d);
/* Geometry only (no ciphertexts): what the key holder needs to decode. */
int fhe_dense_geometry(struct fhe_params *p, unsigned m, unsigned n, struct fhe_dense **ret);

/*
 * One inference: encode h, multiply, add blocks, rescale, and mask every
 * non-output coefficient with fresh uniform randomness (OpenSSL CSPRNG).
 * ret gets row_blocks ciphertexts. `mask` false is for tests only.
 */
int fhe_dense_eval_ex(const struct fhe_dense *d, const double *h, bool mask,
		      struct fhe_ciphertext ***ret, unsigned *ret_count);
int fhe_dense_eval(const struct fhe_dense *d, const double *h, struct fhe_ciphertext ***ret,
		   unsigned *ret_count);
void fhe_ciphertexts_free(struct fhe_ciphertext **v, unsigned count);
/* Output coefficient index of row r within its ciphertext (r % rows). */
size_t fhe_dense_output_coeff(const struct fhe_dense *d, unsigned r);
/* y[0..m) from the decrypted output plaintexts (one per row block). */
int fhe_dense_decode(const struct fhe_dense *d, struct fhe_plaintext *const *pts, double *y);

/* Key holder: y[0..m) from the output ciphertexts, flooded (fhe_decrypt_coeffs). */
int fhe_dense_decrypt(const struct fhe_secret_key *sk, const struct fhe_dense *d,
		      struct fhe_ciphertext *const *cts, unsigned count,
		      const struct fhe_flood *flood, double *y);

/* Column-packed slot variant, for comparison: one ciphertext per column. */
int fhe_dense_slots_seal(struct fhe_params *p, const struct fhe_public_key *pk,
			 const double *W, const double *b, unsigned m, unsigned n,
			 struct fhe_ciphertext ***ret_cols, struct fhe_ciphertext **ret_bias);
int fhe_dense_slots_eval(struct fhe_params *p, struct fhe_ciphertext *const *cols,
			 const struct fhe_ciphertext *bias, unsigned n, const double *h,
			 struct fhe_ciphertext **ret);

/* ---- serialization ------------------------------------------------------------ */

/*
 * "VFHE" | u16 version | u8 kind | u8 flags | u8 encoding | u8 level | u16 0 |
 * u32 body length | params hash[32] | f64 scale | body. Little endian.
 * Residues are bit-packed at ceil(log2 q_i) bits. Parsing is strict: every
 * residue < q_i, exact sizes, a level the parameter set has, known flags.
 */
enum fhe_kind {
	FHE_KIND_PARAMS = 1,
	FHE_KIND_SECRET_KEY = 2,
	FHE_KIND_PUBLIC_KEY = 3,
	FHE_KIND_PLAINTEXT = 4,
	FHE_KIND_CIPHERTEXT = 5,
};
#define FHE_FORMAT_VERSION 1
#define FHE_HEADER_SIZE 56
#define FHE_SERIAL_MAX (64u << 20)	/* no object is larger */

/* Each writes a malloc'd buffer (secret key: lib/secmem memory, free with secmem_free). */
int fhe_params_serialize(const struct fhe_params *p, uint8_t **ret, size_t *ret_len);
int fhe_params_deserialize(const uint8_t *buf, size_t len, struct fhe_params **ret);
int fhe_secret_key_serialize(const struct fhe_secret_key *sk, uint8_t **ret, size_t *ret_len);
/* p may be NULL: the key's preset id then names the parameter set. */
int fhe_secret_key_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			       struct fhe_secret_key **ret);
int fhe_public_key_serialize(const struct fhe_public_key *pk, uint8_t **ret, size_t *ret_len);
int fhe_public_key_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			       struct fhe_public_key **ret);
int fhe_plaintext_serialize(const struct fhe_plaintext *pt, uint8_t **ret, size_t *ret_len);
int fhe_plaintext_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			      struct fhe_plaintext **ret);
int fhe_ciphertext_serialize(const struct fhe_ciphertext *ct, uint8_t **ret, size_t *ret_len);
int fhe_ciphertext_deserialize(struct fhe_params *p, const uint8_t *buf, size_t len,
			       struct fhe_ciphertext **ret);
/* Reads the kind without parsing the body (-EBADMSG when not a veil FHE object). */
int fhe_peek(const uint8_t *buf, size_t len, enum fhe_kind *ret_kind);
/* Text for the last validation failure in this thread ("residue 17 of prime 1 >= q"). */
const char *fhe_last_error(void);

#endif
