/* Shared helpers of the Check suites.  Each test program defines
 * lf_test_suite(); test-main.c runs it. */
#pragma once

#include <check.h>
#include <string.h>
#include <leafio/leafio.h>

/* The suite of this test program. */
Suite *lf_test_suite (void);

/* A private directory for this process, removed with its contents at exit.
 * Transfer none. */
const char *lf_test_tmpdir (void);
/* A path inside lf_test_tmpdir(); free with g_free. */
char *lf_test_path (const char *name);
/* The spec for one codec reference in the default registry (transfer
 * full); fails the test when it does not resolve. */
LfSpec *lf_test_spec (const char *reference);
/* The codec of a reference in the default registry (transfer full); fails
 * the test when it does not resolve. */
LfCodec *lf_test_codec (const char *reference);
/* `tree` saved with `spec` into memory (transfer full). */
GBytes *lf_test_save_bytes (LfNode *tree, LfSpec *spec);
/* The same with a spec of one codec reference. */
GBytes *lf_test_save_bytes_ref (LfNode *tree, const char *reference);
/* `tree` saved with `spec` through a stream over callbacks (no file, no
 * memory stream: the route of pipes) that fails with LF_ERROR_IO "the sink
 * is full" once `fail_after` bytes have gone (G_MAXSIZE: never); the bytes
 * written (transfer full), or NULL with `error` set. */
GBytes *lf_test_save_into_sink (LfNode *tree, LfSpec *spec, gsize fail_after, GError **error);
/* `bytes` loaded whole with the codec `reference`, from a stream named
 * "test.eqx"; NULL with `error` set on failure.  A load that leaves bytes
 * after the last leaf fails the test. */
LfNode *lf_test_load_bytes (GBytes *bytes, LfNode *like, const char *reference,
                            GError **error);
/* The same, failing the test on an error (transfer full). */
LfNode *lf_test_load_ok (GBytes *bytes, LfNode *like, const char *reference);
/* The build tree's top directory (LF_TOP_BUILDDIR) or "..". */
const char *lf_test_top_builddir (void);

/* Asserts `err` is set in LF_ERROR with `code` and its message contains
 * `needle` (when not NULL), then frees it. */
#define LF_ASSERT_ERROR(err_, code_, needle_)                                   \
  do {                                                                          \
    GError *lf_e_ = (err_);                                                     \
    const char *lf_needle_ = (needle_);                                         \
    ck_assert_msg (lf_e_ != NULL, "expected an error, got none");               \
    ck_assert_msg (lf_e_->domain == LF_ERROR && lf_e_->code == (int) (code_),   \
                   "expected code %d, got %s/%d: %s", (int) (code_),            \
                   g_quark_to_string (lf_e_->domain), lf_e_->code,             \
                   lf_e_->message);                                             \
    if (lf_needle_ != NULL)                                                     \
      ck_assert_msg (strstr (lf_e_->message, lf_needle_) != NULL,               \
                     "message \"%s\" lacks \"%s\"", lf_e_->message, lf_needle_); \
    g_clear_error (&(err_));                                                    \
  } while (0)

/* Asserts that `err` is unset, printing its message otherwise. */
#define LF_ASSERT_NO_ERROR(err)                                                 \
  ck_assert_msg ((err) == NULL, "unexpected error: %s",                         \
                 (err) ? (err)->message : "")

/* Runs `code`, asserting it emits exactly one g_critical (a precondition). */
#define LF_ASSERT_CRITICAL(code)                                                \
  do {                                                                          \
    lf_test_expect_critical (TRUE);                                             \
    code;                                                                       \
    ck_assert_msg (lf_test_expect_critical (FALSE) == 1,                        \
                   "expected one critical from: " #code);                       \
  } while (0)

/* Internal to LF_ASSERT_CRITICAL: start (TRUE) or stop (FALSE) expecting
 * criticals; stopping returns how many were seen. */
int lf_test_expect_critical (gboolean start);

/* Ends a forked child with `code`.  exec'ing `sh -c "exit N"` skips
 * valgrind's exit-time leak check, which would count the parent's memory
 * the child inherits (and fail the child with --error-exitcode). */
void lf_test_child_exit (int code) G_GNUC_NORETURN;

/* Reads a whole file into GBytes or fails the test. */
GBytes *lf_test_read_file (const char *path);
/* Writes bytes to a file or fails the test. */
void lf_test_write_file (const char *path, const void *data, gsize size);
