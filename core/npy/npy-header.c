/* npy headers: formatting byte-identical to numpy >= 1.24, and a small
 * strict parser of the header dict (never an eval). */
#include "config.h"
#include <string.h>
#include <leafio/leafio.h>
#include "npy-private.h"

/* numpy leaves room after the dict for the growth axis to reach this many
 * digits (GROWTH_AXIS_MAX_DIGITS), so a file can be appended to in place. */
#define GROWTH_AXIS_MAX_DIGITS 21
#define NPY_ALIGN 64
/* Longest dict this writer produces: the keys, a 4-char descr, 64 dims of
 * 20 digits and the growth spaces fit well within this. */
#define DICT_TEXT_MAX 2048

/* ---- formatting ------------------------------------------------------------ */

static gsize
append (char *text, gsize len, const char *s)
{
  gsize n = strlen (s);
  memcpy (text + len, s, n);
  return len + n;
}

/* Decimal digits of `v` into `out` (no NUL); returns their count.  By
 * hand: g_snprintf cost more than the rest of a small record's save. */
static gsize
format_size (char *out, gsize v)
{
  char tmp[24];
  gsize n = 0;
  do
    {
      tmp[n++] = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v != 0);
  for (gsize i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  return n;
}

#define APPEND_LITERAL(text, len, s) \
  (memcpy ((text) + (len), (s), sizeof (s) - 1), (len) + sizeof (s) - 1)

/* The dict text numpy writes, growth spaces included (no padding). */
static gsize
format_dict (char *text, LfDType dtype, guint ndim, const gsize *shape)
{
  gsize len = 0;
  len = APPEND_LITERAL (text, len, "{'descr': '");
  len = append (text, len, lf_dtype_to_descr (dtype));
  len = APPEND_LITERAL (text, len, "', 'fortran_order': False, 'shape': (");
  gsize first_digits = 0;
  for (guint i = 0; i < ndim; i++)
    {
      if (i > 0)
        len = APPEND_LITERAL (text, len, ", ");
      gsize digits = format_size (text + len, shape[i]);
      if (i == 0)
        first_digits = digits;
      len += digits;
    }
  /* Python's repr of a one-tuple keeps its comma: (3,) */
  if (ndim == 1)
    len = APPEND_LITERAL (text, len, ",), }");
  else
    len = APPEND_LITERAL (text, len, "), }");
  if (ndim > 0)
    {
      gsize growth = GROWTH_AXIS_MAX_DIGITS - first_digits;
      memset (text + len, ' ', growth);
      len += growth;
    }
  return len;
}

gsize
lf_npy_header_format (char *buffer, gsize buffer_size, LfDType dtype, guint ndim,
                      const gsize *shape, guint64 stream_offset, guint align)
{
  g_return_val_if_fail (buffer != NULL || buffer_size == 0, 0);
  g_return_val_if_fail (dtype > LF_DTYPE_INVALID && dtype < LF_DTYPE_LAST, 0);
  g_return_val_if_fail (ndim <= LF_MAX_NDIM, 0);
  g_return_val_if_fail (shape != NULL || ndim == 0, 0);
  g_return_val_if_fail (align % NPY_ALIGN == 0, 0);

  char text[DICT_TEXT_MAX];
  gsize text_len = format_dict (text, dtype, ndim, shape);

  /* numpy: padlen = 64 - ((magic + len field + text + '\n') % 64), so the
   * padding is 1..64 spaces, never 0.  With `align` the same rule runs
   * against the record's offset in the stream. */
  guint64 unit = align != 0 ? align : NPY_ALIGN;
  guint64 base = align != 0 ? stream_offset % unit : 0;
  guint len_size = 2;
  guint64 pad = unit - ((base + LF_NPY_PREFIX_LEN + len_size + text_len + 1) % unit);
  if (text_len + 1 + pad > G_MAXUINT16)
    {
      /* Version 2.0 only when the length no longer fits 16 bits. */
      len_size = 4;
      pad = unit - ((base + LF_NPY_PREFIX_LEN + len_size + text_len + 1) % unit);
    }
  guint64 header_len = text_len + pad + 1;
  guint64 total = LF_NPY_PREFIX_LEN + len_size + header_len;
  if (total > buffer_size || header_len > G_MAXUINT32)
    return 0;

  guint8 *out = (guint8 *) buffer;
  memcpy (out, LF_NPY_MAGIC, LF_NPY_MAGIC_LEN);
  out[6] = len_size == 2 ? 1 : 2;
  out[7] = 0;
  for (guint i = 0; i < len_size; i++)
    out[8 + i] = (guint8) (header_len >> (8 * i));
  gsize at = LF_NPY_PREFIX_LEN + len_size;
  memcpy (out + at, text, text_len);
  at += text_len;
  memset (out + at, ' ', pad);
  at += pad;
  out[at++] = '\n';
  return at;
}

static gboolean parse_dict (const char *text, gsize length, guint8 major,
                            LfNpyHeader *header, GError **error);

/* ---- prefix ---------------------------------------------------------------- */

gboolean
lf_npy_parse_prefix (const guint8 *bytes, gsize size, LfNpyHeader *header,
                     guint *len_size, GError **error)
{
  gsize magic_have = MIN (size, LF_NPY_MAGIC_LEN);
  if (memcmp (bytes, LF_NPY_MAGIC, magic_have) != 0)
    {
      char found[4 * LF_NPY_MAGIC_LEN + 1];
      gsize at = 0;
      for (gsize i = 0; i < magic_have; i++)
        {
          if (bytes[i] >= 0x20 && bytes[i] < 0x7f && bytes[i] != '\\')
            found[at++] = (char) bytes[i];
          else
            at += (gsize) g_snprintf (found + at, sizeof found - at, "\\x%02x", bytes[i]);
        }
      found[at] = '\0';
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "not an npy record: expected magic \\x93NUMPY, found \"%s\"", found);
      return FALSE;
    }
  if (size < LF_NPY_PREFIX_LEN)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "npy header: expected %d bytes of magic and version, found %" G_GSIZE_FORMAT,
                   LF_NPY_PREFIX_LEN, size);
      return FALSE;
    }
  guint8 major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "npy header: unknown format version %u.%u (expected 1.0, 2.0 or 3.0)",
                   major, minor);
      return FALSE;
    }
  header->major = major;
  header->minor = minor;
  *len_size = major == 1 ? 2 : 4;
  return TRUE;
}

gboolean
lf_npy_check_header_len (guint64 header_len, GError **error)
{
  if (header_len > LF_NPY_MAX_HEADER_TEXT)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy header: header of %" G_GUINT64_FORMAT " bytes exceeds the limit of %d"
                   " (numpy refuses it too)", header_len, LF_NPY_MAX_HEADER_TEXT);
      return FALSE;
    }
  return TRUE;
}

/* The last header parsed on this thread.  Models repeat headers (the
 * biases of every layer; 100,000 identical records in a list of small
 * arrays) and the result depends on the header's bytes alone, so identical
 * bytes take the cached result instead of the parser. */
#define PARSE_CACHE_MAX 256
static _Thread_local struct {
  gsize size;
  guint8 bytes[PARSE_CACHE_MAX];
  LfNpyHeader header;
} parse_cache;

gboolean
lf_npy_header_parse (const guint8 *bytes, gsize size, LfNpyHeader *header,
                     GError **error)
{
  g_return_val_if_fail (bytes != NULL || size == 0, FALSE);
  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  guint len_size;
  if (!lf_npy_parse_prefix (bytes, size, header, &len_size, error))
    return FALSE;
  if (size < LF_NPY_PREFIX_LEN + len_size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "npy header: expected %u bytes of header length, found %" G_GSIZE_FORMAT,
                   len_size, size - LF_NPY_PREFIX_LEN);
      return FALSE;
    }
  guint64 header_len = 0;
  for (guint i = 0; i < len_size; i++)
    header_len |= (guint64) bytes[LF_NPY_PREFIX_LEN + i] << (8 * i);
  if (!lf_npy_check_header_len (header_len, error))
    return FALSE;
  gsize start = LF_NPY_PREFIX_LEN + len_size;
  if (size - start < header_len)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "npy header: expected %" G_GUINT64_FORMAT " bytes of header text, found %"
                   G_GSIZE_FORMAT, header_len, size - start);
      return FALSE;
    }
  gsize total = start + (gsize) header_len;
  if (total == parse_cache.size && memcmp (bytes, parse_cache.bytes, total) == 0)
    {
      *header = parse_cache.header;
      return TRUE;
    }
  guint8 minor = header->minor;
  if (!parse_dict ((const char *) bytes + start, (gsize) header_len, header->major,
                   header, error))
    return FALSE;
  header->minor = minor;
  header->header_size = total;
  if (total <= PARSE_CACHE_MAX)
    {
      memcpy (parse_cache.bytes, bytes, total);
      parse_cache.size = total;
      parse_cache.header = *header;
    }
  return TRUE;
}

/* ---- dict parser ------------------------------------------------------------
 *
 * numpy reads the dict with Python's ast.literal_eval, so it takes any
 * Python literal spelling of it: comments and line continuations between
 * tokens, parentheses around any value, str prefixes (u, r), escapes,
 * triple quotes and adjacent literals joined ('<f' '8'), ints in any base
 * with one sign, and a key given twice (the last one counts).  This parser
 * takes the same, and nothing it would have to evaluate. */

typedef struct {
  const char *start, *p, *end;
  gboolean allow_long;   /* accept Python 2's `3L` (versions 1.0 and 2.0) */
  GError **error;
} Parser;

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Spaces, comments (# to the end of the line) and backslash-newlines. */
static void
skip_space (Parser *ps)
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
static gboolean
fail_expected (Parser *ps, const char *what)
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

static gboolean
expect_char (Parser *ps, char c, const char *what)
{
  skip_space (ps);
  if (ps->p < ps->end && *ps->p == c)
    {
      ps->p++;
      return TRUE;
    }
  return fail_expected (ps, what);
}

static gboolean
peek_char (Parser *ps, char c)
{
  skip_space (ps);
  return ps->p < ps->end && *ps->p == c;
}

/* Grouping parentheses before a value: how many were opened. */
static guint
open_groups (Parser *ps)
{
  guint n = 0;
  while (peek_char (ps, '('))
    ps->p++, n++;
  return n;
}

static gboolean
close_groups (Parser *ps, guint n)
{
  for (guint i = 0; i < n; i++)
    if (!expect_char (ps, ')', "')' closing a parenthesised value"))
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
parse_escape (Parser *ps, StrOut *so)
{
  if (ps->p >= ps->end)
    return fail_expected (ps, "an escape after '\\'");
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
        return fail_expected (ps, "hexadecimal digits in an escape");
      v = v * 16 + (guint32) hex_value (*ps->p++);
    }
  str_out_add (so, v);
  return TRUE;
}

/* One quoted literal, its prefix (u, r) included, appended to `so`. */
static gboolean
parse_str_piece (Parser *ps, StrOut *so)
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
      return fail_expected (ps, "a quoted string");
    }
  char quote = *ps->p;
  gboolean triple = ps->end - ps->p >= 3 && ps->p[1] == quote && ps->p[2] == quote;
  ps->p += triple ? 3 : 1;
  for (;;)
    {
      if (ps->p >= ps->end)
        return fail_expected (ps, "a closing quote");
      char c = *ps->p;
      if (c == quote && (!triple || (ps->end - ps->p >= 3 && ps->p[1] == quote
                                     && ps->p[2] == quote)))
        {
          ps->p += triple ? 3 : 1;
          return TRUE;
        }
      if (!triple && (c == '\n' || c == '\r'))
        return fail_expected (ps, "a closing quote before the line ends");
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
starts_str (Parser *ps)
{
  skip_space (ps);
  const char *q = ps->p;
  while (q < ps->end && q - ps->p < 2 && strchr ("uUrR", *q) != NULL)
    q++;
  return q < ps->end && (*q == '\'' || *q == '"');
}

/* A str: one or more adjacent literals, in grouping parentheses or not,
 * decoded into `out` (NUL-terminated, truncated to `out_size - 1`);
 * `*too_long` when it did not fit. */
static gboolean
parse_string (Parser *ps, char *out, gsize out_size, gboolean *too_long)
{
  guint groups = open_groups (ps);
  StrOut so = { out, out_size, 0, FALSE, FALSE };
  const char *at = ps->p;
  if (!starts_str (ps))
    return fail_expected (ps, "a quoted string");
  do
    if (!parse_str_piece (ps, &so))
      return FALSE;
  while (starts_str (ps));
  if (so.not_ascii)
    {
      ps->p = at;
      return fail_expected (ps, "a string of printable ASCII characters");
    }
  out[so.len] = '\0';
  *too_long = so.too_long;
  return close_groups (ps, groups);
}

static gboolean
parse_bool (Parser *ps, gboolean *value)
{
  guint groups = open_groups (ps);
  skip_space (ps);
  gsize left = (gsize) (ps->end - ps->p);
  gsize n = 0;
  if (left >= 4 && memcmp (ps->p, "True", 4) == 0)
    n = 4, *value = TRUE;
  else if (left >= 5 && memcmp (ps->p, "False", 5) == 0)
    n = 5, *value = FALSE;
  /* "Trueish" is a name, not a bool. */
  if (n == 0 || (n < left && (g_ascii_isalnum (ps->p[n]) || ps->p[n] == '_')))
    return fail_expected (ps, "True or False for 'fortran_order'");
  ps->p += n;
  return close_groups (ps, groups);
}

/* ---- ints and the shape tuple ---- */

/* The digits of an int literal in `base`, with single underscores between
 * them (and after a base prefix); FALSE without a digit. */
static gboolean
parse_digits (Parser *ps, guint base, guint64 *value, gboolean *overflow)
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
static gboolean
parse_int_literal (Parser *ps, guint64 *value, gboolean *overflow)
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
      return fail_expected (ps, "a dimension (non-negative int)");
    }
  /* Python 3 refuses leading zeros (007) except for zero itself. */
  if (base == 10 && *first == '0' && (*value != 0 || *overflow))
    {
      ps->p = first;
      return fail_expected (ps, "a dimension without leading zeros");
    }
  if (ps->allow_long && ps->p < ps->end && *ps->p == 'L')
    ps->p++;
  if (ps->p < ps->end && (g_ascii_isalnum (*ps->p) || *ps->p == '_' || *ps->p == '.'))
    return fail_expected (ps, "',' or ')' after a dimension");
  return TRUE;
}

/* A dimension: an int with at most one sign, grouping parentheses around
 * it or around the int after the sign (-(3) is an int, as Python reads it). */
static gboolean
parse_dim (Parser *ps, gsize *value)
{
  guint groups = open_groups (ps);
  skip_space (ps);
  const char *first = ps->p;
  gboolean negative = FALSE;
  if (ps->p < ps->end && (*ps->p == '-' || *ps->p == '+'))
    negative = *ps->p++ == '-';
  guint inner = first != ps->p ? open_groups (ps) : 0;
  skip_space (ps);
  if (ps->p >= ps->end || !g_ascii_isdigit (*ps->p))
    return fail_expected (ps, "a dimension (non-negative int)");
  const char *digits = ps->p;
  guint64 v;
  gboolean overflow;
  if (!parse_int_literal (ps, &v, &overflow))
    return FALSE;
  if (negative && (v != 0 || overflow))
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_CORRUPT,
                   "npy header: negative dimension at byte %td of the dict "
                   "(expected a non-negative int)", first - ps->start);
      return FALSE;
    }
  /* numpy's dims are signed (intp): larger values cannot be real arrays. */
  if (overflow || v > (guint64) G_MAXSSIZE)
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_CORRUPT,
                   "npy header: dimension %.*s at byte %td of the dict is too large "
                   "(expected at most %" G_GSSIZE_FORMAT ")",
                   (int) MIN (ps->p - digits, 40), digits, digits - ps->start, G_MAXSSIZE);
      return FALSE;
    }
  *value = (gsize) v;
  return close_groups (ps, inner) && close_groups (ps, groups);
}

static gboolean
add_dim (Parser *ps, LfNpyHeader *header, guint *ndim, gsize dim)
{
  if (*ndim == LF_MAX_NDIM)
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy header: shape has more than %d dimensions", LF_MAX_NDIM);
      return FALSE;
    }
  header->shape[(*ndim)++] = dim;
  return TRUE;
}

/* What a parenthesis opens: the shape tuple, or grouping parentheses
 * around a dimension or around the tuple ((3,)).  `*is_tuple` tells which
 * was read; a tuple's dims go to `header`. */
static gboolean
parse_paren (Parser *ps, LfNpyHeader *header, gboolean *is_tuple, gsize *dim, guint depth)
{
  if (depth > 64)
    return fail_expected (ps, "at most 64 nested parentheses");
  if (!expect_char (ps, '(', "'(' opening the shape tuple"))
    return FALSE;
  guint ndim = 0;
  *is_tuple = TRUE;
  if (peek_char (ps, ')'))
    {
      ps->p++;
      header->ndim = 0;
      return TRUE;
    }
  /* The first item: a dimension, or something in parentheses. */
  gboolean first_is_tuple = FALSE;
  gsize first = 0;
  skip_space (ps);
  if (peek_char (ps, '('))
    {
      const char *at = ps->p;
      if (!parse_paren (ps, header, &first_is_tuple, &first, depth + 1))
        return FALSE;
      if (first_is_tuple && !peek_char (ps, ')'))
        {
          ps->p = at;
          return fail_expected (ps, "a dimension (non-negative int)");
        }
    }
  else if (!parse_dim (ps, &first))
    return FALSE;
  if (peek_char (ps, ')'))
    {
      /* (x): grouping parentheses around x. */
      ps->p++;
      *is_tuple = first_is_tuple;
      *dim = first;
      return TRUE;
    }
  if (!add_dim (ps, header, &ndim, first))
    return FALSE;
  while (peek_char (ps, ','))
    {
      ps->p++;
      if (peek_char (ps, ')'))
        break;
      gsize dim_i = 0;
      if (!parse_dim (ps, &dim_i) || !add_dim (ps, header, &ndim, dim_i))
        return FALSE;
      if (!peek_char (ps, ',') && !peek_char (ps, ')'))
        return fail_expected (ps, "',' or ')' in the shape tuple");
    }
  if (!expect_char (ps, ')', "',' or ')' in the shape tuple"))
    return FALSE;
  header->ndim = ndim;
  return TRUE;
}

/* A Python tuple of ints: (), (3,), (2, 3), (2, 3,), ((3,)). */
static gboolean
parse_shape (Parser *ps, LfNpyHeader *header)
{
  gboolean is_tuple;
  gsize dim = 0;
  if (!parse_paren (ps, header, &is_tuple, &dim, 0))
    return FALSE;
  /* (3) is an int in Python, not a tuple. */
  if (!is_tuple)
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_CORRUPT,
                   "npy header: shape (%" G_GSIZE_FORMAT ") is not a tuple "
                   "(expected (%" G_GSIZE_FORMAT ",))", dim, dim);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_descr (Parser *ps, LfNpyHeader *header)
{
  /* Looked at past any parentheses; parse_string() reads them again. */
  const char *at = ps->p;
  open_groups (ps);
  if (peek_char (ps, '['))
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy header: structured dtype refused (expected a plain numeric descr)");
      return FALSE;
    }
  if (peek_char (ps, '{'))
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy header: dict dtype refused (expected a plain numeric descr)");
      return FALSE;
    }
  ps->p = at;
  gboolean too_long;
  if (!parse_string (ps, header->descr, sizeof header->descr, &too_long))
    return FALSE;
  if (too_long)
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy header: unsupported dtype '%s...' (expected bool, integer, float "
                   "or complex)", header->descr);
      return FALSE;
    }
  return TRUE;
}

enum { KEY_DESCR = 1 << 0, KEY_FORTRAN = 1 << 1, KEY_SHAPE = 1 << 2 };

static gboolean
parse_entry (Parser *ps, LfNpyHeader *header, guint *seen)
{
  char key[16];
  gboolean too_long;
  const char *key_at;
  skip_space (ps);
  key_at = ps->p;
  if (!parse_string (ps, key, sizeof key, &too_long))
    return FALSE;
  guint which = 0;
  if (!too_long && strcmp (key, "descr") == 0)
    which = KEY_DESCR;
  else if (!too_long && strcmp (key, "fortran_order") == 0)
    which = KEY_FORTRAN;
  else if (!too_long && strcmp (key, "shape") == 0)
    which = KEY_SHAPE;
  if (which == 0)
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_CORRUPT,
                   "npy header: unexpected key '%s%s' at byte %td of the dict (expected "
                   "exactly 'descr', 'fortran_order' and 'shape')",
                   key, too_long ? "..." : "", key_at - ps->start);
      return FALSE;
    }
  /* A key given twice: the last value counts, as in a Python dict. */
  *seen |= which;
  if (!expect_char (ps, ':', "':' after a key"))
    return FALSE;
  switch (which)
    {
    case KEY_DESCR:
      return parse_descr (ps, header);
    case KEY_FORTRAN:
      return parse_bool (ps, &header->fortran_order);
    default:
      return parse_shape (ps, header);
    }
}

/* ---- descr spellings ----------------------------------------------------------
 *
 * numpy's reader passes the descr to np.dtype(), which takes more than
 * numpy's writer produces: the byte order may be missing, '=' or '|' for
 * any size (both mean native then), the type may be a one-character code
 * ('<d', 'f') or, without a byte order, a type name ('float64', 'double',
 * 'int').  These are the spellings numpy 1.24 accepts for the dtypes leafio
 * supports; each becomes the canonical "ORDER KIND SIZE" form that
 * lf_dtype_from_descr() reads.  Anything else is left as written, so it is
 * refused as before. */

typedef struct {
  const char *spelling;
  char kind;
  guint8 size;
} Spelling;

/* Type names np.dtype() accepts, without a byte order (native). */
static const Spelling type_names[] = {
  { "bool", 'b', 1 }, { "bool_", 'b', 1 }, { "bool8", 'b', 1 },
  { "int8", 'i', 1 }, { "byte", 'i', 1 }, { "uint8", 'u', 1 }, { "ubyte", 'u', 1 },
  { "int16", 'i', 2 }, { "short", 'i', 2 }, { "uint16", 'u', 2 }, { "ushort", 'u', 2 },
  { "int32", 'i', 4 }, { "intc", 'i', 4 }, { "uint32", 'u', 4 }, { "uintc", 'u', 4 },
  { "int64", 'i', 8 }, { "longlong", 'i', 8 }, { "uint64", 'u', 8 },
  { "ulonglong", 'u', 8 },
  { "int", 'i', sizeof (long) }, { "int_", 'i', sizeof (long) },
  { "long", 'i', sizeof (long) }, { "uint", 'u', sizeof (long) },
  { "ulong", 'u', sizeof (long) },
  { "intp", 'i', sizeof (gssize) }, { "int0", 'i', sizeof (gssize) },
  { "uintp", 'u', sizeof (gsize) }, { "uint0", 'u', sizeof (gsize) },
  { "float16", 'f', 2 }, { "half", 'f', 2 }, { "float32", 'f', 4 }, { "single", 'f', 4 },
  { "float64", 'f', 8 }, { "double", 'f', 8 }, { "float", 'f', 8 }, { "float_", 'f', 8 },
  { "complex64", 'c', 8 }, { "csingle", 'c', 8 }, { "singlecomplex", 'c', 8 },
  { "complex128", 'c', 16 }, { "cdouble", 'c', 16 }, { "complex", 'c', 16 },
  { "complex_", 'c', 16 }, { "cfloat", 'c', 16 },
};

/* One-character type codes, after an optional byte order. */
static const Spelling type_codes[] = {
  { "?", 'b', 1 }, { "b", 'i', 1 }, { "B", 'u', 1 }, { "h", 'i', 2 }, { "H", 'u', 2 },
  { "i", 'i', 4 }, { "I", 'u', 4 }, { "l", 'i', sizeof (long) }, { "L", 'u', sizeof (long) },
  { "q", 'i', 8 }, { "Q", 'u', 8 }, { "p", 'i', sizeof (gssize) },
  { "P", 'u', sizeof (gsize) }, { "e", 'f', 2 }, { "f", 'f', 4 }, { "d", 'f', 8 },
  { "F", 'c', 8 }, { "D", 'c', 16 },
};

static const Spelling *
find_spelling (const Spelling *table, gsize n, const char *text)
{
  for (gsize i = 0; i < n; i++)
    if (strcmp (table[i].spelling, text) == 0)
      return &table[i];
  return NULL;
}

/* The canonical form of `descr` in `out` (at least 8 bytes), or `descr`
 * itself when it is no other spelling of a supported dtype. */
static const char *
canonical_descr (const char *descr, char *out, gsize out_size)
{
  const Spelling *named = find_spelling (type_names, G_N_ELEMENTS (type_names), descr);
  char order = '=';
  const char *rest = descr;
  if (named == NULL && *descr != '\0' && strchr ("<>=|", *descr) != NULL)
    order = *rest++;
  const Spelling *code = named != NULL ? named
                         : find_spelling (type_codes, G_N_ELEMENTS (type_codes), rest);
  if (code != NULL)
    {
      /* '|' is "not applicable": native for multi-byte types. */
      if (code->size > 1 && order == '|')
        order = '=';
      g_snprintf (out, out_size, "%c%c%u", code->size == 1 ? '|' : order, code->kind,
                  code->size);
      return out;
    }
  /* KIND SIZE: np.dtype() reads the size with strtol, which skips spaces
   * before the digits ('<i 4'); no order, or '|' on a multi-byte type,
   * means native. */
  if (rest[0] == '\0' || strchr ("biufc", rest[0]) == NULL)
    return descr;
  const char *digits = rest + 1;
  while (*digits == ' ' || *digits == '\t')
    digits++;
  if (!g_ascii_isdigit (*digits) || (digits == rest + 1 && rest != descr && order != '|'))
    return descr;
  g_snprintf (out, out_size, "%c%c%s", order == '|' ? '=' : order, rest[0], digits);
  return out;
}

/* Byte size of the data.  As numpy does, the dims other than zero must
 * not overflow (with the element size) even when a zero dim makes the
 * array empty: numpy refuses to create (2**40, 2**40, 0) as "too big". */
static gboolean
compute_data_size (LfNpyHeader *header, GError **error)
{
  gsize bytes = lf_dtype_size (header->dtype);
  gboolean empty = FALSE, overflow = FALSE;
  for (guint i = 0; i < header->ndim && !overflow; i++)
    {
      if (header->shape[i] == 0)
        empty = TRUE;
      else if (!g_size_checked_mul (&bytes, bytes, header->shape[i]))
        overflow = TRUE;
    }
  if (overflow || bytes > G_MAXSSIZE)
    {
      g_autofree char *shape = lf_shape_to_string (header->ndim, header->shape);
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "npy header: shape %s of '%s' overflows the address space", shape,
                   header->descr);
      return FALSE;
    }
  header->data_size = empty ? 0 : bytes;
  return TRUE;
}

static gboolean
parse_dict (const char *text, gsize length, guint8 major, LfNpyHeader *header,
            GError **error)
{
  memset (header, 0, sizeof *header);
  header->major = major;
  if (length > LF_NPY_MAX_HEADER_TEXT)
    return lf_npy_check_header_len (length, error);

  Parser ps = { text, text, text + length, major <= 2, error };
  guint seen = 0;
  guint groups = open_groups (&ps);
  if (!expect_char (&ps, '{', "'{' opening the header dict"))
    return FALSE;
  while (!peek_char (&ps, '}'))
    {
      if (!parse_entry (&ps, header, &seen))
        return FALSE;
      if (peek_char (&ps, ','))
        ps.p++;
      else if (!peek_char (&ps, '}'))
        return fail_expected (&ps, "',' or '}' in the header dict");
    }
  ps.p++;
  if (!close_groups (&ps, groups))
    return FALSE;
  skip_space (&ps);
  if (ps.p != ps.end)
    return fail_expected (&ps, "only spaces after the header dict");

  static const struct { guint bit; const char *name; } keys[] = {
    { KEY_DESCR, "descr" }, { KEY_FORTRAN, "fortran_order" }, { KEY_SHAPE, "shape" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (!(seen & keys[i].bit))
      {
        g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                     "npy header: missing key '%s' (expected exactly 'descr', "
                     "'fortran_order' and 'shape')", keys[i].name);
        return FALSE;
      }

  GError *local = NULL;
  char canonical[sizeof header->descr + 2];
  if (!lf_dtype_from_descr (canonical_descr (header->descr, canonical, sizeof canonical),
                            &header->dtype, &header->swap, &local))
    {
      g_propagate_prefixed_error (error, local, "npy header: ");
      return FALSE;
    }
  return compute_data_size (header, error);
}

gboolean
lf_npy_header_parse_dict (const char *text, gsize length, LfNpyHeader *header,
                          GError **error)
{
  g_return_val_if_fail (text != NULL || length == 0, FALSE);
  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  /* Without a version at hand, accept what versions 1.0 and 2.0 allow. */
  return parse_dict (text, length, 1, header, error);
}
