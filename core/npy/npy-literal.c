/* Python literals in npy header dicts, as ast.literal_eval reads them
 * (npy-literal-private.h says which and why). */
#include "config.h"
#include <string.h>
#include <leafio/leafio.h>
#include "npy-literal-private.h"

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Spaces, comments (# to the end of the line) and backslash-newlines. */
void
_lf_literal_skip_space (LfLiteralParser *ps)
{
  while (ps->p < ps->end)
    {
      if (is_space (*ps->p))
        ps->p++;
      else if (*ps->p == '#')
        while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\r')
          ps->p++;
      else if (*ps->p == '\\' && ps->p + 1 < ps->end
               && (ps->p[1] == '\n' || ps->p[1] == '\r'))
        ps->p += 2;
      else
        break;
    }
}

/* Fails with "expected <what> at byte N, found 'c'" (or "the end"). */
gboolean
_lf_literal_fail (LfLiteralParser *ps, const char *what)
{
  if (ps->p >= ps->end)
    g_set_error (ps->error, LF_ERROR, LF_ERROR_CORRUPT,
                 "npy header: expected %s at byte %td of the dict, found the end", what,
                 ps->p - ps->start);
  else if ((guchar) *ps->p >= 0x20 && (guchar) *ps->p < 0x7f)
    g_set_error (ps->error, LF_ERROR, LF_ERROR_CORRUPT,
                 "npy header: expected %s at byte %td of the dict, found '%c'", what,
                 ps->p - ps->start, *ps->p);
  else
    g_set_error (ps->error, LF_ERROR, LF_ERROR_CORRUPT,
                 "npy header: expected %s at byte %td of the dict, found byte 0x%02x", what,
                 ps->p - ps->start, (guchar) *ps->p);
  return FALSE;
}

gboolean
_lf_literal_expect_char (LfLiteralParser *ps, char c, const char *what)
{
  _lf_literal_skip_space (ps);
  if (ps->p < ps->end && *ps->p == c)
    {
      ps->p++;
      return TRUE;
    }
  return _lf_literal_fail (ps, what);
}

gboolean
_lf_literal_peek_char (LfLiteralParser *ps, char c)
{
  _lf_literal_skip_space (ps);
  return ps->p < ps->end && *ps->p == c;
}

/* Grouping parentheses before a value: how many were opened. */
guint
_lf_literal_open_groups (LfLiteralParser *ps)
{
  guint n = 0;
  while (_lf_literal_peek_char (ps, '('))
    ps->p++, n++;
  return n;
}

gboolean
_lf_literal_close_groups (LfLiteralParser *ps, guint n)
{
  for (guint i = 0; i < n; i++)
    if (!_lf_literal_expect_char (ps, ')', "')' closing a parenthesised value"))
      return FALSE;
  return TRUE;
}

/* ---- str literals ---- */

typedef struct {
  char *out;
  gsize out_size, len;
  gboolean too_long, not_ascii;
} StrOut;

static void
str_out_add (StrOut *so, gunichar c)
{
  /* Keys and dtypes are printable ASCII; anything else would also end up,
   * raw, in an error message. */
  if (c < 0x20 || c > 0x7e)
    so->not_ascii = TRUE;
  else if (so->len + 1 < so->out_size)
    so->out[so->len++] = (char) c;
  else
    so->too_long = TRUE;
}

static int
hex_value (char c)
{
  return g_ascii_isxdigit (c) ? g_ascii_xdigit_value (c) : -1;
}

/* One escape after a backslash (not in a raw literal): Python's. */
static gboolean
parse_escape (LfLiteralParser *ps, StrOut *so)
{
  if (ps->p >= ps->end)
    return _lf_literal_fail (ps, "an escape after '\\'");
  char c = *ps->p++;
  static const char simple[] = "\\\\''\"\"a\ab\bf\fn\nr\rt\tv\v";
  for (gsize i = 0; simple[i] != '\0'; i += 2)
    if (simple[i] == c)
      {
        str_out_add (so, (guchar) simple[i + 1]);
        return TRUE;
      }
  if (c == '\n')
    return TRUE;
  if (c == '\r')
    {
      if (ps->p < ps->end && *ps->p == '\n')
        ps->p++;
      return TRUE;
    }
  if (c >= '0' && c <= '7')
    {
      guint v = (guint) (c - '0');
      for (int i = 0; i < 2 && ps->p < ps->end && *ps->p >= '0' && *ps->p <= '7'; i++)
        v = v * 8 + (guint) (*ps->p++ - '0');
      str_out_add (so, v);
      return TRUE;
    }
  int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
  if (digits == 0)
    {
      /* An unknown escape keeps its backslash, as Python does. */
      str_out_add (so, '\\');
      str_out_add (so, (guchar) c);
      return TRUE;
    }
  guint32 v = 0;
  for (int i = 0; i < digits; i++)
    {
      if (ps->p >= ps->end || hex_value (*ps->p) < 0)
        return _lf_literal_fail (ps, "hexadecimal digits in an escape");
      v = v * 16 + (guint32) hex_value (*ps->p++);
    }
  str_out_add (so, v);
  return TRUE;
}

/* One quoted literal, its prefix (u, r) included, appended to `so`. */
static gboolean
parse_str_piece (LfLiteralParser *ps, StrOut *so)
{
  gboolean raw = FALSE;
  const char *at = ps->p;
  while (ps->p < ps->end && strchr ("uUrR", *ps->p) != NULL && ps->p - at < 2)
    {
      raw |= *ps->p == 'r' || *ps->p == 'R';
      ps->p++;
    }
  /* 'ur' is no prefix in Python 3, and b'' is bytes, not a str. */
  if (ps->p - at > 1 || ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
    {
      ps->p = at;
      return _lf_literal_fail (ps, "a quoted string");
    }
  char quote = *ps->p;
  gboolean triple = ps->end - ps->p >= 3 && ps->p[1] == quote && ps->p[2] == quote;
  ps->p += triple ? 3 : 1;
  for (;;)
    {
      if (ps->p >= ps->end)
        return _lf_literal_fail (ps, "a closing quote");
      char c = *ps->p;
      if (c == quote && (!triple || (ps->end - ps->p >= 3 && ps->p[1] == quote
                                     && ps->p[2] == quote)))
        {
          ps->p += triple ? 3 : 1;
          return TRUE;
        }
      if (!triple && (c == '\n' || c == '\r'))
        return _lf_literal_fail (ps, "a closing quote before the line ends");
      ps->p++;
      if (c != '\\')
        str_out_add (so, (guchar) c);
      else if (!raw)
        {
          if (!parse_escape (ps, so))
            return FALSE;
        }
      else
        {
          /* In a raw literal the backslash stays, and protects the next
           * character (a quote) from ending the literal. */
          str_out_add (so, '\\');
          if (ps->p < ps->end)
            str_out_add (so, (guchar) *ps->p++);
        }
    }
}

static gboolean
starts_str (LfLiteralParser *ps)
{
  _lf_literal_skip_space (ps);
  const char *q = ps->p;
  while (q < ps->end && q - ps->p < 2 && strchr ("uUrR", *q) != NULL)
    q++;
  return q < ps->end && (*q == '\'' || *q == '"');
}

/* A str: one or more adjacent literals, in grouping parentheses or not,
 * decoded into `out` (NUL-terminated, truncated to `out_size - 1`);
 * `*too_long` when it did not fit. */
gboolean
_lf_literal_parse_string (LfLiteralParser *ps, char *out, gsize out_size,
                          gboolean *too_long)
{
  guint groups = _lf_literal_open_groups (ps);
  StrOut so = { out, out_size, 0, FALSE, FALSE };
  const char *at = ps->p;
  if (!starts_str (ps))
    return _lf_literal_fail (ps, "a quoted string");
  do
    if (!parse_str_piece (ps, &so))
      return FALSE;
  while (starts_str (ps));
  if (so.not_ascii)
    {
      ps->p = at;
      return _lf_literal_fail (ps, "a string of printable ASCII characters");
    }
  out[so.len] = '\0';
  *too_long = so.too_long;
  return _lf_literal_close_groups (ps, groups);
}

gboolean
_lf_literal_parse_bool (LfLiteralParser *ps, gboolean *value)
{
  guint groups = _lf_literal_open_groups (ps);
  _lf_literal_skip_space (ps);
  gsize left = (gsize) (ps->end - ps->p);
  gsize n = 0;
  if (left >= 4 && memcmp (ps->p, "True", 4) == 0)
    n = 4, *value = TRUE;
  else if (left >= 5 && memcmp (ps->p, "False", 5) == 0)
    n = 5, *value = FALSE;
  /* "Trueish" is a name, not a bool. */
  if (n == 0 || (n < left && (g_ascii_isalnum (ps->p[n]) || ps->p[n] == '_')))
    return _lf_literal_fail (ps, "True or False for 'fortran_order'");
  ps->p += n;
  return _lf_literal_close_groups (ps, groups);
}

/* ---- ints and the shape tuple ---- */

/* The digits of an int literal in `base`, with single underscores between
 * them (and after a base prefix); FALSE without a digit. */
static gboolean
parse_digits (LfLiteralParser *ps, guint base, guint64 *value, gboolean *overflow)
{
  gboolean any = FALSE;
  while (ps->p < ps->end)
    {
      char c = *ps->p;
      if (c == '_' && ps->p + 1 < ps->end && hex_value (ps->p[1]) >= 0
          && (guint) hex_value (ps->p[1]) < base)
        {
          ps->p++;
          continue;
        }
      int d = hex_value (c);
      if (d < 0 || (guint) d >= base)
        break;
      if (*value > (G_MAXUINT64 - (guint) d) / base)
        *overflow = TRUE;
      else
        *value = *value * base + (guint) d;
      any = TRUE;
      ps->p++;
    }
  return any;
}

/* An int literal as Python 3 reads it (decimal, 0x, 0o, 0b), and Python 2's
 * `3L` in versions 1.0 and 2.0. */
gboolean
_lf_literal_parse_int (LfLiteralParser *ps, guint64 *value, gboolean *overflow)
{
  const char *first = ps->p;
  *value = 0;
  *overflow = FALSE;
  guint base = 10;
  if (ps->end - ps->p >= 2 && ps->p[0] == '0' && strchr ("xXoObB", ps->p[1]) != NULL)
    {
      base = strchr ("xX", ps->p[1]) ? 16 : strchr ("oO", ps->p[1]) ? 8 : 2;
      ps->p += 2;
      if (ps->p < ps->end && *ps->p == '_')
        ps->p++;
    }
  if (!parse_digits (ps, base, value, overflow))
    {
      ps->p = first;
      return _lf_literal_fail (ps, "a dimension (non-negative int)");
    }
  /* Python 3 refuses leading zeros (007) except for zero itself. */
  if (base == 10 && *first == '0' && (*value != 0 || *overflow))
    {
      ps->p = first;
      return _lf_literal_fail (ps, "a dimension without leading zeros");
    }
  if (ps->allow_long && ps->p < ps->end && *ps->p == 'L')
    ps->p++;
  if (ps->p < ps->end && (g_ascii_isalnum (*ps->p) || *ps->p == '_' || *ps->p == '.'))
    return _lf_literal_fail (ps, "',' or ')' after a dimension");
  return TRUE;
}
