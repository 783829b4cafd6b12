/* npy headers: formatting byte-identical to numpy >= 1.24, and reading
 * the prefix and length before the dict (npy-dict.c; never an eval). */
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
  if (!_lf_npy_parse_dict ((const char *) bytes + start, (gsize) header_len, header->major,
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
