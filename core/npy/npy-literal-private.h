/* Python literals as numpy's header reader takes them (npy-literal.c).
 *
 * numpy reads an npy header's dict with Python's ast.literal_eval, so it
 * takes any Python literal spelling of it: comments and line continuations
 * between tokens, parentheses around any value, str prefixes (u, r),
 * escapes, triple quotes and adjacent literals joined ('<f' '8'), and ints
 * in any base with one sign.  These read the literals the dict parser
 * (npy-dict.c) needs, and nothing they would have to evaluate. */
#pragma once

#include <glib.h>

/* Where the dict parser is in the header text. */
typedef struct {
  const char *start, *p, *end;
  gboolean allow_long;   /* accept Python 2's `3L` (versions 1.0 and 2.0) */
  GError **error;
} LfLiteralParser;

/* Spaces, comments (# to the end of the line) and backslash-newlines. */
G_GNUC_INTERNAL void _lf_literal_skip_space (LfLiteralParser *ps);
/* Fails with LF_ERROR_CORRUPT "expected <what> at byte N, found 'c'" (or
 * "the end"); returns FALSE. */
G_GNUC_INTERNAL gboolean _lf_literal_fail (LfLiteralParser *ps, const char *what);
/* Takes `c` after spaces, or fails expecting `what`. */
G_GNUC_INTERNAL gboolean _lf_literal_expect_char (LfLiteralParser *ps, char c,
                                                  const char *what);
/* Whether `c` comes next after spaces (not taken). */
G_GNUC_INTERNAL gboolean _lf_literal_peek_char (LfLiteralParser *ps, char c);
/* Grouping parentheses before a value: how many were opened; and the
 * closing of as many after it. */
G_GNUC_INTERNAL guint _lf_literal_open_groups (LfLiteralParser *ps);
G_GNUC_INTERNAL gboolean _lf_literal_close_groups (LfLiteralParser *ps, guint n);
/* A str: one or more adjacent literals, in grouping parentheses or not,
 * decoded into `out` (NUL-terminated, truncated to `out_size - 1`);
 * `*too_long` when it did not fit.  Only printable ASCII is taken. */
G_GNUC_INTERNAL gboolean _lf_literal_parse_string (LfLiteralParser *ps, char *out,
                                                   gsize out_size, gboolean *too_long);
/* True or False. */
G_GNUC_INTERNAL gboolean _lf_literal_parse_bool (LfLiteralParser *ps, gboolean *value);
/* An int literal as Python 3 reads it (decimal, 0x, 0o, 0b), and Python 2's
 * `3L` in versions 1.0 and 2.0; `*overflow` past 64 bits. */
G_GNUC_INTERNAL gboolean _lf_literal_parse_int (LfLiteralParser *ps, guint64 *value,
                                                gboolean *overflow);
