/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil's test harness, kselftest style, written for veil.
 *
 *   TEST(name) { ASSERT_EQ(1, f()); }
 *   FIXTURE(db) { int fd; };
 *   FIXTURE_SETUP(db) { self->fd = open(...); }
 *   FIXTURE_TEARDOWN(db) { close(self->fd); }
 *   TEST_F(db, reads_back) { EXPECT_GE(self->fd, 0); }
 *
 * Each test runs in a forked child with a timeout (TEST_TIMEOUT(name, s) or
 * VEIL_TEST_TIMEOUT in the environment, default 60 s). Output is KTAP v1 with a
 * computed plan; the program exits 0 when nothing failed, 1 when something
 * failed, 4 when every test skipped. Arguments select tests by name.
 */
#ifndef VEIL_TESTS_HARNESS_H
#define VEIL_TESTS_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

struct harness_test {
	const char *name;
	void (*fn)(struct harness_test *t);
	unsigned int timeout;	/* seconds, 0 = default */
	struct harness_test *next;
};

void harness_register(struct harness_test *t);
/* Record a failure; in the test child. `fatal` ends the test at once. */
void harness_fail(const char *file, int line, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* End the test as skipped; the reason is printed after "# SKIP". */
void harness_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Paths of the source and build trees (VEIL_SRCDIR / VEIL_BUILDDIR, else derived). */
const char *harness_srcdir(void);
const char *harness_builddir(void);

#define HARNESS_CAT_(a, b) a##b
#define HARNESS_CAT(a, b) HARNESS_CAT_(a, b)

#define TEST_TIMEOUT(name, secs)                                                        \
	static void test_fn_##name(struct harness_test *_t);                           \
	static struct harness_test test_desc_##name = { #name, test_fn_##name, secs, NULL }; \
	__attribute__((constructor)) static void test_reg_##name(void)                 \
	{                                                                               \
		harness_register(&test_desc_##name);                                    \
	}                                                                               \
	static void test_fn_##name(struct harness_test *_t __attribute__((unused)))

#define TEST(name) TEST_TIMEOUT(name, 0)

#define FIXTURE(f) struct _fixture_##f
#define FIXTURE_SETUP(f) static void _fixture_setup_##f(struct _fixture_##f *self)
#define FIXTURE_TEARDOWN(f) static void _fixture_teardown_##f(struct _fixture_##f *self)

/*
 * The teardown runs in the test child after the body returns or fails an
 * ASSERT (harness_fail longjmps back here).
 */
#define TEST_F_TIMEOUT(f, name, secs)                                                   \
	static void test_body_##f##_##name(struct _fixture_##f *self);                 \
	TEST_TIMEOUT(f##_##name, secs)                                                 \
	{                                                                               \
		struct _fixture_##f self_storage;                                       \
		memset(&self_storage, 0, sizeof(self_storage));                         \
		_fixture_setup_##f(&self_storage);                                      \
		if (!harness_setjmp())                                                  \
			test_body_##f##_##name(&self_storage);                          \
		_fixture_teardown_##f(&self_storage);                                   \
		harness_finish();                                                       \
	}                                                                               \
	static void test_body_##f##_##name(struct _fixture_##f *self __attribute__((unused)))

#define TEST_F(f, name) TEST_F_TIMEOUT(f, name, 0)

#include <setjmp.h>
extern sigjmp_buf harness_jmp;
extern bool harness_jmp_armed;
#define harness_setjmp() (harness_jmp_armed = true, sigsetjmp(harness_jmp, 0))
void harness_finish(void) __attribute__((noreturn));

#define SKIP(...) harness_skip(__VA_ARGS__)

/* Comparisons: both sides evaluated once, printed as signed or unsigned 64-bit. */
#define HARNESS_CMP(fatal, exp, seen, op)                                              \
	do {                                                                            \
		_Pragma("GCC diagnostic push")                                          \
		_Pragma("GCC diagnostic ignored \"-Wsign-compare\"")                    \
		_Pragma("GCC diagnostic ignored \"-Wtype-limits\"")                     \
		__typeof__(exp) _e = (exp);                                             \
		__typeof__(seen) _s = (seen);                                           \
		if (!(_e op _s)) {                                                      \
			if ((__typeof__(_e))-1 < (__typeof__(_e))0 ||                   \
			    (__typeof__(_s))-1 < (__typeof__(_s))0)                     \
				harness_fail(__FILE__, __LINE__, fatal,                 \
					     "Expected %s (%" PRId64 ") %s %s (%" PRId64 ")", \
					     #exp, (int64_t)_e, #op, #seen, (int64_t)_s); \
			else                                                            \
				harness_fail(__FILE__, __LINE__, fatal,                 \
					     "Expected %s (%" PRIu64 ") %s %s (%" PRIu64 ")", \
					     #exp, (uint64_t)_e, #op, #seen, (uint64_t)_s); \
		}                                                                       \
		_Pragma("GCC diagnostic pop")                                           \
	} while (0)

#define ASSERT_EQ(e, s) HARNESS_CMP(true, e, s, ==)
#define ASSERT_NE(e, s) HARNESS_CMP(true, e, s, !=)
#define ASSERT_LT(e, s) HARNESS_CMP(true, e, s, <)
#define ASSERT_LE(e, s) HARNESS_CMP(true, e, s, <=)
#define ASSERT_GT(e, s) HARNESS_CMP(true, e, s, >)
#define ASSERT_GE(e, s) HARNESS_CMP(true, e, s, >=)
#define EXPECT_EQ(e, s) HARNESS_CMP(false, e, s, ==)
#define EXPECT_NE(e, s) HARNESS_CMP(false, e, s, !=)
#define EXPECT_LT(e, s) HARNESS_CMP(false, e, s, <)
#define EXPECT_LE(e, s) HARNESS_CMP(false, e, s, <=)
#define EXPECT_GT(e, s) HARNESS_CMP(false, e, s, >)
#define EXPECT_GE(e, s) HARNESS_CMP(false, e, s, >=)

#define HARNESS_BOOL(fatal, cond, want)                                                \
	do {                                                                            \
		if ((bool)(cond) != (bool)(want))                                                 \
			harness_fail(__FILE__, __LINE__, fatal, "Expected %s to be %s", \
				     #cond, (want) ? "true" : "false");                 \
	} while (0)
#define ASSERT_TRUE(c) HARNESS_BOOL(true, c, true)
#define ASSERT_FALSE(c) HARNESS_BOOL(true, c, false)
#define EXPECT_TRUE(c) HARNESS_BOOL(false, c, true)
#define EXPECT_FALSE(c) HARNESS_BOOL(false, c, false)

#define HARNESS_NULL(fatal, p, want_null)                                              \
	do {                                                                            \
		const void *_p = (p);                                                   \
		if ((_p == NULL) != (want_null))                                        \
			harness_fail(__FILE__, __LINE__, fatal, "Expected %s %s NULL (%p)", \
				     #p, (want_null) ? "==" : "!=", _p);               \
	} while (0)
#define ASSERT_NULL(p) HARNESS_NULL(true, p, true)
#define ASSERT_NONNULL(p) HARNESS_NULL(true, p, false)
#define EXPECT_NULL(p) HARNESS_NULL(false, p, true)
#define EXPECT_NONNULL(p) HARNESS_NULL(false, p, false)

#define HARNESS_STR(fatal, e, s, want_eq)                                              \
	do {                                                                            \
		const char *_e = (e), *_s = (s);                                        \
		if (!_e || !_s || (strcmp(_e, _s) == 0) != (want_eq))                   \
			harness_fail(__FILE__, __LINE__, fatal,                         \
				     "Expected %s ('%s') %s %s ('%s')", #e,             \
				     _e ? _e : "(null)", (want_eq) ? "==" : "!=", #s,   \
				     _s ? _s : "(null)");                               \
	} while (0)
#define ASSERT_STREQ(e, s) HARNESS_STR(true, e, s, true)
#define ASSERT_STRNE(e, s) HARNESS_STR(true, e, s, false)
#define EXPECT_STREQ(e, s) HARNESS_STR(false, e, s, true)
#define EXPECT_STRNE(e, s) HARNESS_STR(false, e, s, false)

#define HARNESS_MEM(fatal, e, s, n)                                                    \
	do {                                                                            \
		size_t _n = (n);                                                        \
		if (memcmp((e), (s), _n) != 0)                                          \
			harness_fail(__FILE__, __LINE__, fatal,                         \
				     "Expected %zu bytes of %s to equal %s", _n, #e, #s); \
	} while (0)
#define ASSERT_MEMEQ(e, s, n) HARNESS_MEM(true, e, s, n)
#define EXPECT_MEMEQ(e, s, n) HARNESS_MEM(false, e, s, n)

/* Free-form diagnostics, printed as KTAP comments. */
#define TH_LOG(fmt, ...) fprintf(stdout, "# " fmt "\n", ##__VA_ARGS__)

#endif
