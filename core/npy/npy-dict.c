/* The header dict of an npy record: its three keys, the shape tuple, and
 * every descr spelling numpy reads for the dtypes leafio has.  The
 * literals themselves are read by npy-literal.c; a key given twice counts
 * once, the last time, as in Python. */
#include "config.h"
#include <string.h>
#include <leafio/leafio.h>
#include "npy-literal-private.h"
#include "npy-private.h"

/* A dimension: an int with at most one sign, grouping parentheses around
 * it or around the int after the sign (-(3) is an int, as Python reads it). */
static gboolean
parse_dim (LfLiteralParser *ps, gsize *value)
{
  guint groups = _lf_literal_open_groups (ps);
  _lf_literal_skip_space (ps);
  const char *first = ps->p;
  gboolean negative = FALSE;
  if (ps->p < ps->end && (*ps->p == '-' || *ps->p == '+'))
    negative = *ps->p++ == '-';
  guint inner = first != ps->p ? _lf_literal_open_groups (ps) : 0;
  _lf_literal_skip_space (ps);
  if (ps->p >= ps->end || !g_ascii_isdigit (*ps->p))
    return _lf_literal_fail (ps, "a dimension (non-negative int)");
  const char *digits = ps->p;
  guint64 v;
  gboolean overflow;
  if (!_lf_literal_parse_int (ps, &v, &overflow))
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
  return _lf_literal_close_groups (ps, inner) && _lf_literal_close_groups (ps, groups);
}

static gboolean
add_dim (LfLiteralParser *ps, LfNpyHeader *header, guint *ndim, gsize dim)
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
parse_paren (LfLiteralParser *ps, LfNpyHeader *header, gboolean *is_tuple, gsize *dim, guint depth)
{
  if (depth > 64)
    return _lf_literal_fail (ps, "at most 64 nested parentheses");
  if (!_lf_literal_expect_char (ps, '(', "'(' opening the shape tuple"))
    return FALSE;
  guint ndim = 0;
  *is_tuple = TRUE;
  if (_lf_literal_peek_char (ps, ')'))
    {
      ps->p++;
      header->ndim = 0;
      return TRUE;
    }
  /* The first item: a dimension, or something in parentheses. */
  gboolean first_is_tuple = FALSE;
  gsize first = 0;
  _lf_literal_skip_space (ps);
  if (_lf_literal_peek_char (ps, '('))
    {
      const char *at = ps->p;
      if (!parse_paren (ps, header, &first_is_tuple, &first, depth + 1))
        return FALSE;
      if (first_is_tuple && !_lf_literal_peek_char (ps, ')'))
        {
          ps->p = at;
          return _lf_literal_fail (ps, "a dimension (non-negative int)");
        }
    }
  else if (!parse_dim (ps, &first))
    return FALSE;
  if (_lf_literal_peek_char (ps, ')'))
    {
      /* (x): grouping parentheses around x. */
      ps->p++;
      *is_tuple = first_is_tuple;
      *dim = first;
      return TRUE;
    }
  if (!add_dim (ps, header, &ndim, first))
    return FALSE;
  while (_lf_literal_peek_char (ps, ','))
    {
      ps->p++;
      if (_lf_literal_peek_char (ps, ')'))
        break;
      gsize dim_i = 0;
      if (!parse_dim (ps, &dim_i) || !add_dim (ps, header, &ndim, dim_i))
        return FALSE;
      if (!_lf_literal_peek_char (ps, ',') && !_lf_literal_peek_char (ps, ')'))
        return _lf_literal_fail (ps, "',' or ')' in the shape tuple");
    }
  if (!_lf_literal_expect_char (ps, ')', "',' or ')' in the shape tuple"))
    return FALSE;
  header->ndim = ndim;
  return TRUE;
}

/* A Python tuple of ints: (), (3,), (2, 3), (2, 3,), ((3,)). */
static gboolean
parse_shape (LfLiteralParser *ps, LfNpyHeader *header)
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
parse_descr (LfLiteralParser *ps, LfNpyHeader *header)
{
  /* Looked at past any parentheses; _lf_literal_parse_string() reads them again. */
  const char *at = ps->p;
  _lf_literal_open_groups (ps);
  if (_lf_literal_peek_char (ps, '['))
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy header: structured dtype refused (expected a plain numeric descr)");
      return FALSE;
    }
  if (_lf_literal_peek_char (ps, '{'))
    {
      g_set_error (ps->error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "npy header: dict dtype refused (expected a plain numeric descr)");
      return FALSE;
    }
  ps->p = at;
  gboolean too_long;
  if (!_lf_literal_parse_string (ps, header->descr, sizeof header->descr, &too_long))
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
parse_entry (LfLiteralParser *ps, LfNpyHeader *header, guint *seen)
{
  char key[16];
  gboolean too_long;
  const char *key_at;
  _lf_literal_skip_space (ps);
  key_at = ps->p;
  if (!_lf_literal_parse_string (ps, key, sizeof key, &too_long))
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
  if (!_lf_literal_expect_char (ps, ':', "':' after a key"))
    return FALSE;
  switch (which)
    {
    case KEY_DESCR:
      return parse_descr (ps, header);
    case KEY_FORTRAN:
      return _lf_literal_parse_bool (ps, &header->fortran_order);
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

gboolean
_lf_npy_parse_dict (const char *text, gsize length, guint8 major, LfNpyHeader *header,
                    GError **error)
{
  memset (header, 0, sizeof *header);
  header->major = major;
  if (length > LF_NPY_MAX_HEADER_TEXT)
    return lf_npy_check_header_len (length, error);

  LfLiteralParser ps = { text, text, text + length, major <= 2, error };
  guint seen = 0;
  guint groups = _lf_literal_open_groups (&ps);
  if (!_lf_literal_expect_char (&ps, '{', "'{' opening the header dict"))
    return FALSE;
  while (!_lf_literal_peek_char (&ps, '}'))
    {
      if (!parse_entry (&ps, header, &seen))
        return FALSE;
      if (_lf_literal_peek_char (&ps, ','))
        ps.p++;
      else if (!_lf_literal_peek_char (&ps, '}'))
        return _lf_literal_fail (&ps, "',' or '}' in the header dict");
    }
  ps.p++;
  if (!_lf_literal_close_groups (&ps, groups))
    return FALSE;
  _lf_literal_skip_space (&ps);
  if (ps.p != ps.end)
    return _lf_literal_fail (&ps, "only spaces after the header dict");

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
  return _lf_npy_parse_dict (text, length, 1, header, error);
}
