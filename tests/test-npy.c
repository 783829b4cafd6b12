/* npy records: numpy-identical headers, the strict dict parser, reading
 * (byte order, Fortran order, truncation) and writing leaves. */
#define _GNU_SOURCE
#include "config.h"
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "test-common.h"

static const LfDType all_dtypes[] = {
  LF_DTYPE_BOOL, LF_DTYPE_INT8, LF_DTYPE_INT16, LF_DTYPE_INT32, LF_DTYPE_INT64,
  LF_DTYPE_UINT8, LF_DTYPE_UINT16, LF_DTYPE_UINT32, LF_DTYPE_UINT64,
  LF_DTYPE_FLOAT16, LF_DTYPE_BFLOAT16, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT64,
  LF_DTYPE_COMPLEX64, LF_DTYPE_COMPLEX128,
};

/* Formats a header into a string (NUL-terminated for comparisons). */
static char *
format_header (LfDType dtype, guint ndim, const gsize *shape, gsize *len)
{
  char *buffer = g_malloc0 (LF_NPY_HEADER_MAX + 1);
  *len = lf_npy_header_format (buffer, LF_NPY_HEADER_MAX, dtype, ndim, shape, 0, 0);
  ck_assert_uint_gt (*len, 0);
  return buffer;
}

/* The expected header: v1.0 prefix, `dict`, `spaces` spaces and a newline. */
static char *
expected_header (const char *dict, gsize spaces)
{
  gsize hlen = strlen (dict) + spaces + 1;
  GString *s = g_string_new (NULL);
  g_string_append_len (s, "\x93NUMPY\x01\x00", 8);
  g_string_append_c (s, (char) (hlen & 0xff));
  g_string_append_c (s, (char) (hlen >> 8));
  g_string_append (s, dict);
  for (gsize i = 0; i < spaces; i++)
    g_string_append_c (s, ' ');
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

/* A whole record: a version 1.0 header around `dict`, padded to 64, then
 * `size` bytes of data. */
static GBytes *
make_record (const char *dict, gconstpointer data, gsize size)
{
  gsize text = strlen (dict);
  gsize pad = 64 - ((10 + text + 1) % 64);
  char *header = expected_header (dict, pad);
  GByteArray *out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) header, (guint) (10 + text + pad + 1));
  g_byte_array_append (out, data, (guint) size);
  g_free (header);
  return g_byte_array_free_to_bytes (out);
}

/* ---- formatting ------------------------------------------------------------ */

START_TEST (test_format_worked_examples)
{
  gsize len;
  gsize three = 3;
  /* FEATURES.md 3.10: float32[3] -> 128 bytes, 20 growth + 40 pad spaces. */
  g_autofree char *f4 = format_header (LF_DTYPE_FLOAT32, 1, &three, &len);
  g_autofree char *f4_expect
    = expected_header ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 60);
  ck_assert_uint_eq (len, 128);
  ck_assert (memcmp (f4, f4_expect, 128) == 0);
  ck_assert_uint_eq ((guint8) f4[8], 0x76);
  ck_assert_uint_eq ((guint8) f4[9], 0x00);

  /* float64 0-d: no growth spaces, 62 pad. */
  g_autofree char *f8 = format_header (LF_DTYPE_FLOAT64, 0, NULL, &len);
  g_autofree char *f8_expect
    = expected_header ("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 62);
  ck_assert_uint_eq (len, 128);
  ck_assert (memcmp (f8, f8_expect, 128) == 0);

  /* FEATURES.md 3.11: the high-rank shape numpy >= 1.24 pads to 192. */
  gsize big[] = { 2, 1000000, 100, 1000000, 1000000, 1000000 };
  g_autofree char *hr = format_header (LF_DTYPE_FLOAT32, 6, big, &len);
  ck_assert_uint_eq (len, 192);
  ck_assert (g_str_has_prefix (hr + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': "
                               "(2, 1000000, 100, 1000000, 1000000, 1000000), }"
                               "                    "));
  ck_assert_int_eq (hr[191], '\n');

  /* 1-byte types use '|', bfloat16 '<V2', 2-d shapes ", ". */
  gsize two_three[] = { 2, 3 };
  g_autofree char *b1 = format_header (LF_DTYPE_BOOL, 2, two_three, &len);
  ck_assert (g_str_has_prefix (b1 + 10, "{'descr': '|b1', 'fortran_order': False, "
                               "'shape': (2, 3), }" "                    "));
  g_autofree char *bf = format_header (LF_DTYPE_BFLOAT16, 1, &three, &len);
  ck_assert (g_str_has_prefix (bf + 10, "{'descr': '<V2', "));
  g_autofree char *c16 = format_header (LF_DTYPE_COMPLEX128, 1, &three, &len);
  ck_assert (g_str_has_prefix (c16 + 10, "{'descr': '<c16', "));
}
END_TEST

/* Counts the spaces between the closing brace and the newline. */
static gsize
trailing_spaces (const char *header, gsize len)
{
  const char *brace = memchr (header, '}', len);
  ck_assert (brace != NULL);
  return (gsize) (header + len - 1 - (brace + 1));
}

START_TEST (test_format_padding_rule)
{
  gboolean saw_full_pad = FALSE;
  for (gsize d = 0; d < G_N_ELEMENTS (all_dtypes); d++)
    for (guint ndim = 0; ndim <= 7; ndim++)
      for (gsize base = 1; base < 2000000; base = base * 13 + 1)
        {
          gsize shape[7];
          for (guint k = 0; k < ndim; k++)
            shape[k] = base + k * 97;
          gsize len;
          g_autofree char *h = format_header (all_dtypes[d], ndim, shape, &len);
          ck_assert_uint_eq (len % 64, 0);
          char first[24];
          g_snprintf (first, sizeof first, "%" G_GSIZE_FORMAT, ndim ? shape[0] : 0);
          gsize growth = ndim > 0 ? 21 - strlen (first) : 0;
          gsize spaces = trailing_spaces (h, len);
          ck_assert_uint_ge (spaces, growth + 1);
          ck_assert_uint_le (spaces, growth + 64);
          if (spaces == growth + 64)
            saw_full_pad = TRUE;
          /* It parses back to what was formatted (when such an array can
           * exist at all). */
          gsize n_bytes;
          if (!lf_shape_n_bytes (all_dtypes[d], ndim, shape, &n_bytes) || n_bytes > G_MAXSSIZE)
            continue;
          LfNpyHeader header;
          GError *error = NULL;
          ck_assert (lf_npy_header_parse ((const guint8 *) h, len, &header, &error));
          LF_ASSERT_NO_ERROR (error);
          ck_assert_uint_eq (header.dtype, all_dtypes[d]);
          ck_assert_uint_eq (header.ndim, ndim);
          ck_assert_uint_eq (header.header_size, len);
          ck_assert (!header.fortran_order && !header.swap);
          ck_assert_uint_eq (header.major, 1);
          for (guint k = 0; k < ndim; k++)
            ck_assert_uint_eq (header.shape[k], shape[k]);
        }
  /* An exact multiple of 64 gets 64 spaces, never 0: find one on purpose. */
  for (gsize n = 1; n < 100000 && !saw_full_pad; n++)
    {
      gsize shape[2] = { 7, n };
      gsize len;
      g_autofree char *h = format_header (LF_DTYPE_INT8, 2, shape, &len);
      if (trailing_spaces (h, len) == 20 + 64)
        saw_full_pad = TRUE;
    }
  ck_assert (saw_full_pad);
}
END_TEST

START_TEST (test_format_zero_size_and_rank)
{
  gsize len;
  gsize zero = 0;
  g_autofree char *z = format_header (LF_DTYPE_INT32, 1, &zero, &len);
  ck_assert (g_str_has_prefix (z + 10, "{'descr': '<i4', 'fortran_order': False, "
                               "'shape': (0,), }"));
  gsize z3[] = { 2, 0, 3 };
  g_autofree char *zz = format_header (LF_DTYPE_UINT64, 3, z3, &len);
  ck_assert (g_str_has_prefix (zz + 10, "{'descr': '<u8', 'fortran_order': False, "
                               "'shape': (2, 0, 3), }"));
  gsize s7[] = { 1, 2, 1, 2, 1, 2, 3 };
  g_autofree char *h7 = format_header (LF_DTYPE_FLOAT16, 7, s7, &len);
  ck_assert (g_str_has_prefix (h7 + 10, "{'descr': '<f2', 'fortran_order': False, "
                               "'shape': (1, 2, 1, 2, 1, 2, 3), }"));
  /* 64 dims of 20 digits fit LF_NPY_HEADER_MAX. */
  gsize huge[LF_MAX_NDIM];
  for (guint k = 0; k < LF_MAX_NDIM; k++)
    huge[k] = G_MAXSIZE;
  char buffer[LF_NPY_HEADER_MAX];
  len = lf_npy_header_format (buffer, sizeof buffer, LF_DTYPE_COMPLEX128, LF_MAX_NDIM, huge,
                              0, 0);
  ck_assert_uint_gt (len, 1344);
  ck_assert_uint_eq (len % 64, 0);
}
END_TEST

START_TEST (test_format_align_and_v2)
{
  gsize three = 3;
  char buffer[LF_NPY_HEADER_MAX];
  /* Aligned to the stream: offset + length is a multiple of align. */
  gsize len = lf_npy_header_format (buffer, sizeof buffer, LF_DTYPE_FLOAT32, 1, &three,
                                    100, 64);
  ck_assert_uint_eq ((100 + len) % 64, 0);
  len = lf_npy_header_format (buffer, sizeof buffer, LF_DTYPE_FLOAT32, 1, &three, 12345,
                              1024);
  ck_assert_uint_eq ((12345 + len) % 1024, 0);
  /* A buffer too small: 0. */
  ck_assert_uint_eq (lf_npy_header_format (buffer, 127, LF_DTYPE_FLOAT32, 1, &three, 0, 0),
                     0);
  ck_assert_uint_eq (lf_npy_header_format (NULL, 0, LF_DTYPE_FLOAT32, 1, &three, 0, 0), 0);

  /* Padding past 65535 bytes needs version 2.0 and a 4-byte length. */
  gsize big_size = 300000;
  g_autofree char *big = g_malloc (big_size);
  len = lf_npy_header_format (big, big_size, LF_DTYPE_FLOAT32, 1, &three, 0, 131072);
  ck_assert_uint_eq (len, 131072);
  ck_assert_uint_eq ((guint8) big[6], 2);
  ck_assert_uint_eq ((guint8) big[7], 0);
  guint32 hlen = (guint8) big[8] | (guint8) big[9] << 8 | (guint8) big[10] << 16
    | (guint32) (guint8) big[11] << 24;
  ck_assert_uint_eq (hlen, 131072 - 12);
  ck_assert (g_str_has_prefix (big + 12, "{'descr': '<f4'"));
  ck_assert_int_eq (big[len - 1], '\n');
  /* Our reader, like numpy, refuses such a long header. */
  LfNpyHeader header;
  GError *error = NULL;
  ck_assert (!lf_npy_header_parse ((const guint8 *) big, len, &header, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "exceeds the limit of 10000");

  LF_ASSERT_CRITICAL (lf_npy_header_format (buffer, sizeof buffer, LF_DTYPE_INVALID, 0,
                                            NULL, 0, 0));
  LF_ASSERT_CRITICAL (lf_npy_header_format (buffer, sizeof buffer, LF_DTYPE_FLOAT32, 1,
                                            &three, 0, 100));
  LF_ASSERT_CRITICAL (lf_npy_header_format (buffer, sizeof buffer, LF_DTYPE_FLOAT32, 1,
                                            NULL, 0, 0));
}
END_TEST

/* ---- parsing --------------------------------------------------------------- */

static void
parse_ok (const char *dict, LfNpyHeader *header)
{
  GError *error = NULL;
  ck_assert_msg (lf_npy_header_parse_dict (dict, strlen (dict), header, &error),
                 "%s: %s", dict, error ? error->message : "");
}

START_TEST (test_parse_valid_dicts)
{
  LfNpyHeader h;
  parse_ok ("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", &h);
  ck_assert_uint_eq (h.dtype, LF_DTYPE_FLOAT32);
  ck_assert_uint_eq (h.ndim, 1);
  ck_assert_uint_eq (h.shape[0], 3);
  ck_assert_uint_eq (h.data_size, 12);
  ck_assert_str_eq (h.descr, "<f4");

  /* Any key order, double quotes, no trailing comma, no spaces. */
  parse_ok ("{\"shape\":(2,3),\"fortran_order\":True,\"descr\":\"<i8\"}", &h);
  ck_assert_uint_eq (h.dtype, LF_DTYPE_INT64);
  ck_assert (h.fortran_order);
  ck_assert_uint_eq (h.ndim, 2);
  ck_assert_uint_eq (h.data_size, 48);

  /* Whitespace everywhere, big-endian, trailing commas in the tuple. */
  parse_ok ("  {\n 'descr' : '>f8' ,\n\t'fortran_order':False,'shape':( 4 , ) , }  \n",
            &h);
  ck_assert_uint_eq (h.dtype, LF_DTYPE_FLOAT64);
  ck_assert (h.swap == (G_BYTE_ORDER == G_LITTLE_ENDIAN));
  ck_assert_uint_eq (h.shape[0], 4);
  parse_ok ("{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3,), }", &h);
  ck_assert_uint_eq (h.ndim, 2);

  /* Python 2 longs (versions 1.0/2.0), underscores, zero. */
  parse_ok ("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }", &h);
  ck_assert_uint_eq (h.shape[1], 4);
  parse_ok ("{'descr': '<f4', 'fortran_order': False, 'shape': (1_000, 0), }", &h);
  ck_assert_uint_eq (h.shape[0], 1000);
  ck_assert_uint_eq (h.data_size, 0);
  parse_ok ("{'descr': '|u1', 'fortran_order': False, 'shape': (), }", &h);
  ck_assert_uint_eq (h.ndim, 0);
  ck_assert_uint_eq (h.data_size, 1);

  /* Native and void descrs. */
  parse_ok ("{'descr': '=i2', 'fortran_order': False, 'shape': (), }", &h);
  ck_assert (!h.swap);
  parse_ok ("{'descr': '|V2', 'fortran_order': False, 'shape': (5,), }", &h);
  ck_assert_uint_eq (h.dtype, LF_DTYPE_BFLOAT16);
  ck_assert_uint_eq (h.data_size, 10);
  parse_ok ("{'descr': '<c8', 'fortran_order': False, 'shape': (0, 4294967296, 7), }", &h);
  ck_assert_uint_eq (h.data_size, 0);

  /* Any spelling Python's literal_eval reads, as numpy reads the dict:
   * a key given twice (the last counts), ints in other bases and with a
   * sign, parentheses, comments, continuations, str prefixes, escapes,
   * triple quotes and adjacent literals. */
  parse_ok ("{'descr': '<i8', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", &h);
  ck_assert_uint_eq (h.dtype, LF_DTYPE_FLOAT32);
  parse_ok ("{'descr': '<f4', 'fortran_order': False, 'shape': (0x10, 0o7, 0b11, +2, -0, "
            "0X_1_0, 000), }", &h);
  ck_assert_uint_eq (h.ndim, 7);
  ck_assert_uint_eq (h.shape[0], 16);
  ck_assert_uint_eq (h.shape[1], 7);
  ck_assert_uint_eq (h.shape[2], 3);
  ck_assert_uint_eq (h.shape[3], 2);
  ck_assert_uint_eq (h.shape[4], 0);
  ck_assert_uint_eq (h.shape[5], 16);
  parse_ok ("({'descr': ('<f4'), 'fortran_order': (True), 'shape': ((2), - (0), +(3),)})", &h);
  ck_assert (h.fortran_order);
  ck_assert_uint_eq (h.ndim, 3);
  ck_assert_uint_eq (h.shape[2], 3);
  parse_ok ("{'descr': '<f4', 'fortran_order': False, 'shape': ((5,)), }", &h);
  ck_assert_uint_eq (h.ndim, 1);
  ck_assert_uint_eq (h.shape[0], 5);
  parse_ok ("{'descr': '<f4', 'fortran_order': False, 'shape': (()), }", &h);
  ck_assert_uint_eq (h.ndim, 0);
  parse_ok ("{ # the dtype\n'descr': \\\n'<f4', 'fortran_order': False, 'shape': (3,)} # end",
            &h);
  ck_assert_uint_eq (h.dtype, LF_DTYPE_FLOAT32);
  const char *descrs[] = { "u'<f8'", "r'<f8'", "R\"<f8\"", "'<f' \"8\"", "'''<f8'''",
                           "\"\"\"<f8\"\"\"", "'<\\x668'", "'<\\u00668'", "'<\\1468'",
                           "('<' 'f8')" };
  for (gsize i = 0; i < G_N_ELEMENTS (descrs); i++)
    {
      g_autofree char *dict = g_strdup_printf ("{'descr': %s, 'fortran_order': False, "
                                               "'shape': (), }", descrs[i]);
      parse_ok (dict, &h);
      ck_assert_msg (h.dtype == LF_DTYPE_FLOAT64, "%s", dict);
    }
  parse_ok ("{u'descr': '<f4', r'fortran_order': False, 'sha' 'pe': (3,), }", &h);
  ck_assert_uint_eq (h.shape[0], 3);

  /* 64 dims is the limit, not more. */
  GString *s = g_string_new ("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < LF_MAX_NDIM; i++)
    g_string_append (s, "1, ");
  g_string_append (s, "), }");
  parse_ok (s->str, &h);
  ck_assert_uint_eq (h.ndim, LF_MAX_NDIM);
  g_string_free (s, TRUE);
}
END_TEST

typedef struct {
  const char *dict;
  LfError code;
  const char *needle;
} BadDict;

#define SHAPE_OK "'shape': (3,)"
#define PREFIX "{'descr': '<f4', 'fortran_order': False, "

static const BadDict bad_dicts[] = {
  { "", LF_ERROR_CORRUPT, "expected '{' opening the header dict at byte 0 of the dict, found the end" },
  { "[1, 2]", LF_ERROR_CORRUPT, "expected '{' opening the header dict at byte 0 of the dict, found '['" },
  { "{'descr': '<f4', 'fortran_order': False}", LF_ERROR_CORRUPT, "missing key 'shape'" },
  { "{'shape': (), 'fortran_order': False}", LF_ERROR_CORRUPT, "missing key 'descr'" },
  { "{'shape': (), 'descr': '<f4'}", LF_ERROR_CORRUPT, "missing key 'fortran_order'" },
  { PREFIX SHAPE_OK ", 'x': 1}", LF_ERROR_CORRUPT, "unexpected key 'x'" },
  { PREFIX SHAPE_OK ", 'descrdescrdescrdescr': 1}", LF_ERROR_CORRUPT, "unexpected key 'descrdescrdescr...'" },
  { "{1: 2}", LF_ERROR_CORRUPT, "expected a quoted string at byte 1" },
  { "{'descr' '<f4'}", LF_ERROR_CORRUPT, "unexpected key 'descr<f4'" },
  { "{'descr' 3}", LF_ERROR_CORRUPT, "expected ':' after a key" },
  { PREFIX "'shape': (-1,)}", LF_ERROR_CORRUPT, "negative dimension" },
  { PREFIX "'shape': (3)}", LF_ERROR_CORRUPT, "shape (3) is not a tuple (expected (3,))" },
  { PREFIX "'shape': (,)}", LF_ERROR_CORRUPT, "expected a dimension" },
  { PREFIX "'shape': (3,,)}", LF_ERROR_CORRUPT, "expected a dimension" },
  { PREFIX "'shape': (3 4)}", LF_ERROR_CORRUPT, "expected ',' or ')' in the shape tuple" },
  { PREFIX "'shape': (1.5,)}", LF_ERROR_CORRUPT, "expected ',' or ')' after a dimension" },
  { PREFIX "'shape': (007,)}", LF_ERROR_CORRUPT, "without leading zeros" },
  { PREFIX "'shape': [3]}", LF_ERROR_CORRUPT, "expected '(' opening the shape tuple" },
  { PREFIX "'shape': ((3,),)}", LF_ERROR_CORRUPT, "expected a dimension" },
  { PREFIX "'shape': (3,)", LF_ERROR_CORRUPT, "expected ',' or '}' in the header dict" },
  { PREFIX "'shape': (3,", LF_ERROR_CORRUPT, "found the end" },
  { PREFIX "'shape': (99999999999999999999999,)}", LF_ERROR_CORRUPT, "dimension 99999999999999999999999 at byte" },
  { PREFIX "'shape': (9223372036854775808,)}", LF_ERROR_CORRUPT, "too large" },
  { PREFIX "'shape': (4294967296, 4294967296)}", LF_ERROR_CORRUPT, "shape (4294967296, 4294967296) of '<f4' overflows" },
  { PREFIX "'shape': (4294967296, 4294967296, 0)}", LF_ERROR_CORRUPT, "overflows the address space" },
  { PREFIX "'shape': (2305843009213693952,)}", LF_ERROR_CORRUPT, "overflows" },
  { PREFIX SHAPE_OK "} x", LF_ERROR_CORRUPT, "expected only spaces after the header dict" },
  { PREFIX SHAPE_OK "}}", LF_ERROR_CORRUPT, "found '}'" },
  { "{'descr': '<f4', 'fortran_order': 1, " SHAPE_OK "}", LF_ERROR_CORRUPT, "expected True or False for 'fortran_order'" },
  { "{'descr': '<f4', 'fortran_order': Truest, " SHAPE_OK "}", LF_ERROR_CORRUPT, "True or False" },
  { "{'descr': '<f4', 'fortran_order': 'False', " SHAPE_OK "}", LF_ERROR_CORRUPT, "True or False" },
  { "{'descr': '<x4', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "unsupported dtype '<x4'" },
  { "{'descr': '<U8', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "'<U8'" },
  { "{'descr': '<M8[ns]', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "'<M8[ns]'" },
  { "{'descr': '>V2', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "'>V2'" },
  { "{'descr': '<f3', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "'<f3'" },
  { "{'descr': 'abc', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "malformed dtype descr 'abc'" },
  { "{'descr': '|O', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "object dtype '|O' refused" },
  { "{'descr': '|O8', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "object dtype" },
  { "{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "structured dtype refused" },
  { "{'descr': {'names': ['a']}, 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "dict dtype refused" },
  { "{'descr': '<f44444444444444444444', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_UNSUPPORTED, "unsupported dtype '<f4444444444444...'" },
  { "{'descr': '<f4, 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "expected ',' or '}' in the header dict at byte 17" },
  { "{'descr': '<f4", LF_ERROR_CORRUPT, "expected a closing quote" },
  { "{'descr': 3, 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "expected a quoted string" },
  { PREFIX "'shape': (--3,)}", LF_ERROR_CORRUPT, "expected a dimension" },
  { PREFIX "'shape': (-(3),)}", LF_ERROR_CORRUPT, "negative dimension" },
  { PREFIX "'shape': ((3),)L}", LF_ERROR_CORRUPT, "expected ',' or '}' in the header dict" },
  { PREFIX "'shape': ((3))}", LF_ERROR_CORRUPT, "shape (3) is not a tuple" },
  { PREFIX "'shape': ((3,), 4)}", LF_ERROR_CORRUPT, "expected a dimension" },
  { PREFIX "'shape': (0x,)}", LF_ERROR_CORRUPT, "expected a dimension" },
  { PREFIX "'shape': (0b12,)}", LF_ERROR_CORRUPT, "after a dimension" },
  { PREFIX "'shape': (3,)) }", LF_ERROR_CORRUPT, "expected ',' or '}' in the header dict" },
  { "{'descr': b'<f4', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "expected a quoted string" },
  { "{'descr': ur'<f4', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "expected a quoted string" },
  { "{'descr': '<f\\u00e94', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "printable ASCII" },
  { "{'descr': '<f\\x3', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "hexadecimal digits" },
  { "{'descr': '<f4\n', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "before the line ends" },
  { "{'descr': ('<f4', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "')' closing a parenthesised value" },
  { "({'descr': '<f4', 'fortran_order': False, " SHAPE_OK "}", LF_ERROR_CORRUPT, "')' closing" },
  { "{'descr': '<f4', 'fortran_order': False, " SHAPE_OK "} # x\n y", LF_ERROR_CORRUPT, "only spaces after" },
};

START_TEST (test_parse_malformed_dicts)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_dicts); i++)
    {
      LfNpyHeader h;
      GError *error = NULL;
      gboolean ok = lf_npy_header_parse_dict (bad_dicts[i].dict, strlen (bad_dicts[i].dict),
                                              &h, &error);
      ck_assert_msg (!ok, "accepted: %s", bad_dicts[i].dict);
      ck_assert_msg (error->code == (int) bad_dicts[i].code
                     && strstr (error->message, bad_dicts[i].needle) != NULL,
                     "%s: got %d \"%s\", expected %d \"%s\"", bad_dicts[i].dict,
                     error->code, error->message, bad_dicts[i].code, bad_dicts[i].needle);
      ck_assert (strstr (error->message, "npy header") != NULL);
      g_clear_error (&error);
    }
}
END_TEST

START_TEST (test_parse_limits)
{
  LfNpyHeader h;
  GError *error = NULL;
  /* More than 64 dims. */
  GString *s = g_string_new ("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i <= LF_MAX_NDIM; i++)
    g_string_append (s, "1, ");
  g_string_append (s, "), }");
  ck_assert (!lf_npy_header_parse_dict (s->str, s->len, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "more than 64 dimensions");
  /* Too long a text. */
  g_string_truncate (s, 0);
  g_string_append (s, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }");
  while (s->len <= LF_NPY_MAX_HEADER_TEXT)
    g_string_append_c (s, ' ');
  ck_assert (!lf_npy_header_parse_dict (s->str, s->len, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "limit of 10000");
  g_string_free (s, TRUE);
  /* A NUL byte. */
  const char nul[] = "{'descr': '<f4',\0 'fortran_order': False, 'shape': (), }";
  ck_assert (!lf_npy_header_parse_dict (nul, sizeof nul - 1, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "found byte 0x00");
}
END_TEST

/* Builds prefix + length + text by hand for any version. */
static GBytes *
raw_header (guint8 major, guint8 minor, const char *text, gssize declared_len)
{
  gsize text_len = strlen (text);
  guint32 len = declared_len >= 0 ? (guint32) declared_len : (guint32) text_len;
  GByteArray *out = g_byte_array_new ();
  guint8 prefix[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', major, minor,
                        len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24 };
  g_byte_array_append (out, prefix, major == 1 ? 10 : 12);
  g_byte_array_append (out, (const guint8 *) text, (guint) text_len);
  return g_byte_array_free_to_bytes (out);
}

START_TEST (test_parse_versions)
{
  LfNpyHeader h;
  GError *error = NULL;
  const char *dict = "{'descr': '<i2', 'fortran_order': True, 'shape': (2L, 5), }   \n";
  for (guint8 major = 1; major <= 3; major++)
    {
      g_autoptr (GBytes) b = raw_header (major, 0, dict, -1);
      gsize size;
      const guint8 *data = g_bytes_get_data (b, &size);
      gboolean ok = lf_npy_header_parse (data, size + 0, &h, &error);
      if (major == 3)
        {
          /* Version 3.0 is Python 3 only: no `2L`. */
          ck_assert (!ok);
          LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "after a dimension");
          continue;
        }
      LF_ASSERT_NO_ERROR (error);
      ck_assert (ok);
      ck_assert_uint_eq (h.major, major);
      ck_assert_uint_eq (h.minor, 0);
      ck_assert_uint_eq (h.header_size, size);
      ck_assert (h.fortran_order);
      ck_assert_uint_eq (h.data_size, 20);
    }
  g_autoptr (GBytes) v3 = raw_header (3, 0, "{'descr': '<i2', 'fortran_order': False, "
                                      "'shape': (2, 5), }\n", -1);
  gsize size;
  const guint8 *data = g_bytes_get_data (v3, &size);
  ck_assert (lf_npy_header_parse (data, size, &h, &error));
  ck_assert_uint_eq (h.major, 3);
  ck_assert_uint_eq (h.header_size, size);
}
END_TEST

START_TEST (test_parse_bad_prefix)
{
  LfNpyHeader h;
  GError *error = NULL;
  const guint8 zip[] = "PK\x03\x04\x14\x00\x00\x00\x08\x00";
  ck_assert (!lf_npy_header_parse (zip, 10, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT,
                   "not an npy record: expected magic \\x93NUMPY, found \"PK\\x03\\x04\\x14\\x00\"");
  const guint8 near[] = "\x93NUMPX\x01\x00";
  ck_assert (!lf_npy_header_parse (near, 8, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "found \"\\x93NUMPX\"");
  /* The beginning of a magic, then the end. */
  ck_assert (!lf_npy_header_parse ((const guint8 *) "\x93NUM", 4, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected 8 bytes of magic and version, found 4");
  ck_assert (!lf_npy_header_parse ((const guint8 *) "", 0, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "found 0");

  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n";
  struct { guint8 major, minor; } bad_versions[] = { { 0, 0 }, { 4, 0 }, { 1, 1 }, { 255, 255 } };
  for (gsize i = 0; i < G_N_ELEMENTS (bad_versions); i++)
    {
      g_autoptr (GBytes) b = raw_header (bad_versions[i].major, bad_versions[i].minor, dict, -1);
      gsize size;
      const guint8 *data = g_bytes_get_data (b, &size);
      ck_assert (!lf_npy_header_parse (data, size, &h, &error));
      g_autofree char *needle = g_strdup_printf ("unknown format version %u.%u (expected 1.0, "
                                                 "2.0 or 3.0)", bad_versions[i].major,
                                                 bad_versions[i].minor);
      LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, needle);
    }

  /* Truncated length field and text; a length over the limit. */
  g_autoptr (GBytes) v2 = raw_header (2, 0, dict, -1);
  const guint8 *data = g_bytes_get_data (v2, NULL);
  ck_assert (!lf_npy_header_parse (data, 10, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected 4 bytes of header length, found 2");
  ck_assert (!lf_npy_header_parse (data, 30, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected 56 bytes of header text, found 18");
  g_autoptr (GBytes) huge = raw_header (2, 0, dict, 0x7fffffff);
  data = g_bytes_get_data (huge, NULL);
  ck_assert (!lf_npy_header_parse (data, g_bytes_get_size (huge), &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "header of 2147483647 bytes exceeds");
  /* A malformed dict inside a good prefix. */
  g_autoptr (GBytes) bad = raw_header (1, 0, "{'descr': '<f4'}", -1);
  data = g_bytes_get_data (bad, NULL);
  ck_assert (!lf_npy_header_parse (data, g_bytes_get_size (bad), &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "missing key 'fortran_order'");
}
END_TEST

/* ---- records --------------------------------------------------------------- */

/* An array of `dtype` and `shape` with deterministic contents. */
static LfNode *
make_array (LfDType dtype, guint ndim, const gsize *shape)
{
  gsize n_bytes;
  ck_assert (lf_shape_n_bytes (dtype, ndim, shape, &n_bytes));
  guint8 *data = g_malloc (n_bytes + 1);
  for (gsize i = 0; i < n_bytes; i++)
    data[i] = dtype == LF_DTYPE_BOOL ? (i % 3 == 0) : (guint8) (i * 37 + 11);
  return lf_array_new_take (dtype, ndim, shape, data);
}

static GBytes *
write_record (LfNode *leaf, guint align)
{
  GError *error = NULL;
  g_autoptr (LfStream) s = lf_stream_new_memory ();
  ck_assert (lf_npy_write (s, leaf, align, &error));
  LF_ASSERT_NO_ERROR (error);
  return lf_stream_steal_bytes (s);
}

START_TEST (test_round_trip_all)
{
  static const gsize shapes[][8] = {
    /* ndim, dims... */
    { 0 }, { 1, 0 }, { 1, 3 }, { 3, 2, 0, 3 }, { 2, 4, 5 },
    { 7, 2, 1, 3, 1, 2, 2, 1 }, { 6, 2, 0, 100, 1000000, 0, 1000 },
  };
  GError *error = NULL;
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  GPtrArray *leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  for (gsize d = 0; d < G_N_ELEMENTS (all_dtypes); d++)
    for (gsize k = 0; k < G_N_ELEMENTS (shapes); k++)
      {
        LfNode *a = make_array (all_dtypes[d], (guint) shapes[k][0], &shapes[k][1]);
        guint64 start = lf_stream_tell (out);
        ck_assert (lf_npy_write (out, a, 0, &error));
        LF_ASSERT_NO_ERROR (error);
        gsize header_len = lf_stream_tell (out) - start - lf_array_get_n_bytes (a);
        ck_assert_uint_eq (header_len % 64, 0);
        g_ptr_array_add (leaves, a);
      }
  g_autoptr (GBytes) all = lf_stream_steal_bytes (out);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (all);
  for (guint i = 0; i < leaves->len; i++)
    {
      g_autoptr (LfNode) back = lf_npy_read (in, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert (lf_tree_equal (back, leaves->pdata[i]));
    }
  gboolean at_end;
  ck_assert (lf_stream_at_end (in, &at_end, &error));
  ck_assert (at_end);
  /* Reading past the end: TRUNCATED, not a crash. */
  ck_assert (lf_npy_read (in, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "found 0");
  g_ptr_array_unref (leaves);
}
END_TEST

START_TEST (test_write_scalars)
{
  GError *error = NULL;
  struct { LfNode *scalar; const char *descr; } cases[] = {
    { lf_scalar_new_bool (TRUE), "'|b1'" },
    { lf_scalar_new_int (-5), "'<i8'" },
    { lf_scalar_new_float (1.5), "'<f8'" },
    { lf_scalar_new_complex (1, -2), "'<c16'" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) rec = write_record (cases[i].scalar, 0);
      gsize size;
      const char *data = g_bytes_get_data (rec, &size);
      LfDType dtype = lf_scalar_get_dtype (cases[i].scalar);
      ck_assert_uint_eq (size, 128 + lf_dtype_size (dtype));
      ck_assert (memmem (data, 128, cases[i].descr, strlen (cases[i].descr)) != NULL);
      ck_assert (memmem (data, 128, "'shape': (), }", 14) != NULL);
      ck_assert (memcmp (data + 128, lf_scalar_get_value (cases[i].scalar),
                         lf_dtype_size (dtype)) == 0);
      g_autoptr (LfStream) in = lf_stream_new_for_bytes (rec);
      g_autoptr (LfNode) back = lf_npy_read (in, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_uint_eq (lf_node_get_kind (back), LF_NODE_ARRAY);
      ck_assert_uint_eq (lf_array_get_ndim (back), 0);
      ck_assert_uint_eq (lf_array_get_dtype (back), dtype);
      lf_node_unref (cases[i].scalar);
    }
  /* bfloat16 writes '<V2' and reads back as bfloat16. */
  guint16 bf = 0x3fc0;
  g_autoptr (LfNode) s = lf_scalar_new (LF_DTYPE_BFLOAT16, &bf);
  g_autoptr (GBytes) rec = write_record (s, 0);
  ck_assert (memmem (g_bytes_get_data (rec, NULL), 128, "'<V2'", 5) != NULL);
}
END_TEST

START_TEST (test_write_refused)
{
  GError *error = NULL;
  g_autoptr (LfStream) s = lf_stream_new_memory ();
  gsize three = 3;
  g_autoptr (LfNode) abstract = lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, &three);
  ck_assert (!lf_npy_write (s, abstract, 0, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "abstract array");
  g_autoptr (LfNode) list = lf_list_new (0, NULL);
  ck_assert (!lf_npy_write (s, list, 0, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "cannot write a node of kind 'list'");
  g_autoptr (LfNode) opaque = lf_opaque_new ("function", NULL, NULL);
  ck_assert (!lf_npy_write (s, opaque, 0, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "kind 'opaque'");
  g_autoptr (LfNode) none = lf_none_new ();
  ck_assert (!lf_npy_write (s, none, 0, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "none");
  ck_assert_uint_eq (lf_stream_tell (s), 0);

  /* An alignment whose padding numpy could not read. */
  g_autoptr (LfNode) a = make_array (LF_DTYPE_FLOAT32, 1, &three);
  ck_assert (!lf_npy_write (s, a, 16384, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "alignment 16384");
  LF_ASSERT_CRITICAL (ck_assert (!lf_npy_write (s, a, 65, &error)));
  LF_ASSERT_CRITICAL (ck_assert (!lf_npy_write (s, NULL, 0, &error)));

  /* Full disk. */
  int fd = open ("/dev/full", O_WRONLY);
  g_autoptr (LfStream) full = lf_stream_new_for_fd (fd, TRUE);
  g_autoptr (LfNode) big = lf_array_new_zeros (LF_DTYPE_FLOAT64, 1, (gsize[]) { 100000 });
  ck_assert (!lf_npy_write (full, big, 0, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "No space left");
}
END_TEST

START_TEST (test_write_aligned)
{
  GError *error = NULL;
  g_autoptr (LfStream) s = lf_stream_new_memory ();
  ck_assert (lf_stream_write (s, "{\"lr\": 0.1}\n", 12, &error));
  gsize three = 3;
  g_autoptr (LfNode) a = make_array (LF_DTYPE_FLOAT64, 1, &three);
  ck_assert (lf_npy_write (s, a, 64, &error));
  guint64 after_first = lf_stream_tell (s);
  ck_assert_uint_eq ((after_first - 24) % 64, 0);
  ck_assert (lf_npy_write (s, a, 4096, &error));
  ck_assert_uint_eq ((lf_stream_tell (s) - 24) % 4096, 0);
  /* np.load reads these all the same (checked in the interop test); so do we. */
  g_autoptr (GBytes) all = lf_stream_steal_bytes (s);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (all);
  ck_assert (lf_stream_skip (in, 12, &error));
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (LfNode) back = lf_npy_read (in, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert (lf_tree_equal (back, a));
    }
}
END_TEST

START_TEST (test_read_byte_swapped)
{
  GError *error = NULL;
  /* Big-endian int32 [1, -2, 0x01020304]. */
  const guint8 be_i4[] = { 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4 };
  g_autoptr (GBytes) r1 = make_record ("{'descr': '>i4', 'fortran_order': False, "
                                       "'shape': (3,), }", be_i4, sizeof be_i4);
  g_autoptr (LfStream) s1 = lf_stream_new_for_bytes (r1);
  g_autoptr (LfNode) a1 = lf_npy_read (s1, &error);
  LF_ASSERT_NO_ERROR (error);
  const gint32 *v1 = lf_array_get_data (a1);
  ck_assert_int_eq (v1[0], 1);
  ck_assert_int_eq (v1[1], -2);
  ck_assert_int_eq (v1[2], 0x01020304);

  /* Big-endian complex64 (1.5 - 2j): each half swaps on its own. */
  guint8 be_c8[8];
  float re = 1.5f, im = -2.0f;
  guint32 ur, ui;
  memcpy (&ur, &re, 4);
  memcpy (&ui, &im, 4);
  ur = GUINT32_TO_BE (ur);
  ui = GUINT32_TO_BE (ui);
  memcpy (be_c8, &ur, 4);
  memcpy (be_c8 + 4, &ui, 4);
  g_autoptr (GBytes) r2 = make_record ("{'descr': '>c8', 'fortran_order': False, "
                                       "'shape': (), }", be_c8, 8);
  g_autoptr (LfStream) s2 = lf_stream_new_for_bytes (r2);
  g_autoptr (LfNode) a2 = lf_npy_read (s2, &error);
  LF_ASSERT_NO_ERROR (error);
  const float *v2 = lf_array_get_data (a2);
  ck_assert (v2[0] == 1.5f && v2[1] == -2.0f);

  /* Big-endian float64 and uint16; '|u1' and '<b1' stay as they are. */
  double d = -3.25;
  guint64 ud;
  memcpy (&ud, &d, 8);
  ud = GUINT64_TO_BE (ud);
  g_autoptr (GBytes) r3 = make_record ("{'descr': '>f8', 'fortran_order': False, "
                                       "'shape': (1,), }", &ud, 8);
  g_autoptr (LfStream) s3 = lf_stream_new_for_bytes (r3);
  g_autoptr (LfNode) a3 = lf_npy_read (s3, &error);
  ck_assert (*(const double *) lf_array_get_data (a3) == -3.25);
  const guint8 be_u2[] = { 0x12, 0x34 };
  g_autoptr (GBytes) r4 = make_record ("{'descr': '>u2', 'fortran_order': False, "
                                       "'shape': (1,), }", be_u2, 2);
  g_autoptr (LfStream) s4 = lf_stream_new_for_bytes (r4);
  g_autoptr (LfNode) a4 = lf_npy_read (s4, &error);
  ck_assert_uint_eq (*(const guint16 *) lf_array_get_data (a4), 0x1234);
}
END_TEST

START_TEST (test_read_fortran)
{
  GError *error = NULL;
  /* A (2, 3, 4) array with value = 100 i + 10 j + k, stored in Fortran
   * order (the first index fastest) as big-endian int64. */
  gsize shape[] = { 2, 3, 4 };
  gint64 f_data[24], c_expect[24];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 4; k++)
        {
          gint64 v = 100 * i + 10 * j + k;
          f_data[i + 2 * j + 6 * k] = (gint64) GUINT64_TO_BE ((guint64) v);
          c_expect[12 * i + 4 * j + k] = v;
        }
  g_autoptr (GBytes) rec = make_record ("{'descr': '>i8', 'fortran_order': True, "
                                        "'shape': (2, 3, 4), }", f_data, sizeof f_data);
  g_autoptr (LfStream) s = lf_stream_new_for_bytes (rec);
  g_autoptr (LfNode) a = lf_npy_read (s, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) expect = lf_array_new_copy (LF_DTYPE_INT64, 3, shape, c_expect);
  ck_assert (lf_tree_equal (a, expect));

  /* Little-endian 7-d with ones, and a 2-d uint8: general transposes. */
  gsize shape7[] = { 2, 1, 3, 1, 2, 2, 1 };
  guint16 f7[24], c7[24];
  gsize idx[7];
  for (gsize n = 0; n < 24; n++)
    {
      /* Decode n as a C index, compute the Fortran offset. */
      gsize rest = n;
      for (int k = 6; k >= 0; k--)
        {
          idx[k] = rest % shape7[k];
          rest /= shape7[k];
        }
      gsize off = 0, stride = 1;
      for (int k = 0; k < 7; k++)
        {
          off += idx[k] * stride;
          stride *= shape7[k];
        }
      c7[n] = (guint16) (n * 31 + 7);
      f7[off] = GUINT16_TO_LE (c7[n]);
    }
  g_autoptr (GBytes) rec7 = make_record ("{'descr': '<f2', 'fortran_order': True, "
                                         "'shape': (2, 1, 3, 1, 2, 2, 1), }", f7, sizeof f7);
  g_autoptr (LfStream) s7 = lf_stream_new_for_bytes (rec7);
  g_autoptr (LfNode) a7 = lf_npy_read (s7, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) e7 = lf_array_new_copy (LF_DTYPE_FLOAT16, 7, shape7, c7);
  ck_assert (lf_tree_equal (a7, e7));

  const guint8 f2[] = { 1, 4, 2, 5, 3, 6 };  /* [[1,2,3],[4,5,6]] in F order */
  const guint8 c2[] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr (GBytes) rec2 = make_record ("{'descr': '|u1', 'fortran_order': True, "
                                         "'shape': (2, 3), }", f2, 6);
  g_autoptr (LfStream) s2 = lf_stream_new_for_bytes (rec2);
  g_autoptr (LfNode) a2 = lf_npy_read (s2, &error);
  ck_assert (memcmp (lf_array_get_data (a2), c2, 6) == 0);

  /* Fortran 1-d and empty arrays are the same bytes. */
  g_autoptr (GBytes) rec1 = make_record ("{'descr': '|u1', 'fortran_order': True, "
                                         "'shape': (6,), }", f2, 6);
  g_autoptr (LfStream) s1 = lf_stream_new_for_bytes (rec1);
  g_autoptr (LfNode) a1 = lf_npy_read (s1, &error);
  ck_assert (memcmp (lf_array_get_data (a1), f2, 6) == 0);
  g_autoptr (GBytes) rec0 = make_record ("{'descr': '<f8', 'fortran_order': True, "
                                         "'shape': (3, 0, 2), }", NULL, 0);
  g_autoptr (LfStream) s0 = lf_stream_new_for_bytes (rec0);
  g_autoptr (LfNode) a0 = lf_npy_read (s0, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_array_get_n_bytes (a0), 0);
}
END_TEST

START_TEST (test_read_bfloat16)
{
  GError *error = NULL;
  const guint16 raw[] = { 0x3f80, 0xc000, 0x7fc0 };
  g_autoptr (GBytes) rec = make_record ("{'descr': '<V2', 'fortran_order': False, "
                                        "'shape': (3,), }", raw, sizeof raw);
  g_autoptr (LfStream) s = lf_stream_new_for_bytes (rec);
  g_autoptr (LfNode) a = lf_npy_read (s, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_array_get_dtype (a), LF_DTYPE_BFLOAT16);
  ck_assert (memcmp (lf_array_get_data (a), raw, sizeof raw) == 0);
}
END_TEST

START_TEST (test_read_truncated)
{
  GError *error = NULL;
  const guint8 data[10] = { 0 };
  g_autoptr (GBytes) rec = make_record ("{'descr': '<f8', 'fortran_order': False, "
                                        "'shape': (100,), }", data, sizeof data);
  /* Known size: refused before reading. */
  g_autoptr (LfStream) s = lf_stream_new_for_bytes (rec);
  lf_stream_set_name (s, "model.eqx");
  ck_assert (lf_npy_read (s, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED,
                   "model.eqx: record declares 800 bytes of data, only 10 remain");
  /* Unknown size (callbacks through a pipe): the stream's truncation. */
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  gsize size;
  const guint8 *bytes = g_bytes_get_data (rec, &size);
  ck_assert_int_eq (write (fds[1], bytes, size), (gssize) size);
  close (fds[1]);
  g_autoptr (LfStream) p = lf_stream_new_for_fd (fds[0], TRUE);
  ck_assert (lf_npy_read (p, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected 800 bytes at offset 128, found 10");

  /* A header cut short, read from a stream. */
  g_autoptr (LfStream) h = lf_stream_new_for_data (bytes, 50);
  ck_assert (lf_npy_read (h, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected 118 bytes at offset 10, found 40");
  g_autoptr (LfStream) h2 = lf_stream_new_for_data (bytes, 9);
  ck_assert (lf_npy_read (h2, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected 2 bytes");
  g_autoptr (LfStream) h3 = lf_stream_new_for_data ("\x93NU", 3);
  ck_assert (lf_npy_read (h3, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "found 3");
  g_autoptr (LfStream) h4 = lf_stream_new_for_data ("hello world", 11);
  ck_assert (lf_npy_read (h4, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "not an npy record");
  /* A huge declared length is refused before it is read. */
  guint8 hdr[10];
  memcpy (hdr, bytes, 10);
  hdr[8] = 0xff;
  hdr[9] = 0xff;
  g_autoptr (LfStream) h5 = lf_stream_new_for_data (hdr, 10);
  ck_assert (lf_npy_read (h5, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "65535 bytes exceeds");
  /* A malformed dict read from a stream. */
  g_autoptr (GBytes) bad = make_record ("{'descr': '|O', 'fortran_order': False, "
                                        "'shape': (1,), }", data, 8);
  g_autoptr (LfStream) h6 = lf_stream_new_for_bytes (bad);
  ck_assert (lf_npy_read (h6, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "object dtype");
  LF_ASSERT_CRITICAL (ck_assert (lf_npy_read (NULL, &error) == NULL));
}
END_TEST

/* Two records and a trailing line, for exact-consumption checks. */
static GBytes *
two_records_and_text (gsize *first_size)
{
  g_autoptr (LfStream) s = lf_stream_new_memory ();
  GError *error = NULL;
  gsize shape[] = { 2, 3 };
  g_autoptr (LfNode) a = make_array (LF_DTYPE_INT16, 2, shape);
  g_autoptr (LfNode) b = lf_scalar_new_float (2.5);
  ck_assert (lf_npy_write (s, a, 0, &error));
  *first_size = lf_stream_tell (s);
  ck_assert (lf_npy_write (s, b, 0, &error));
  ck_assert (lf_stream_write (s, "tail\n", 5, &error));
  return lf_stream_steal_bytes (s);
}

START_TEST (test_exact_consumption)
{
  GError *error = NULL;
  gsize first;
  g_autoptr (GBytes) all = two_records_and_text (&first);
  g_autofree char *path = lf_test_path ("records.npy");
  gsize size;
  const guint8 *data = g_bytes_get_data (all, &size);
  lf_test_write_file (path, data, size);

  /* fd: after one record the fd is right after it. */
  int fd = open (path, O_RDONLY);
  LfStream *s = lf_stream_new_for_fd (fd, FALSE);
  LfNpyHeader header;
  ck_assert (lf_npy_read_header (s, &header, &error));
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), (off_t) header.header_size);
  LfNode *a = lf_npy_read_data (s, &header, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), (off_t) first);
  lf_node_unref (a);
  a = lf_npy_read (s, &error);
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), (off_t) size - 5);
  lf_node_unref (a);
  lf_stream_free (s);
  char tail[6] = { 0 };
  ck_assert_int_eq (read (fd, tail, 5), 5);
  ck_assert_str_eq (tail, "tail\n");
  close (fd);

  /* FILE: the same with ftell. */
  FILE *file = fopen (path, "rb");
  s = lf_stream_new_for_file (file);
  a = lf_npy_read (s, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (ftell (file), (long) first);
  lf_node_unref (a);
  lf_stream_free (s);
  fclose (file);

  /* Path streams read ahead but know where records end. */
  for (int map = 0; map <= 1; map++)
    {
      s = lf_stream_new_for_path (path, map, &error);
      LF_ASSERT_NO_ERROR (error);
      for (int i = 0; i < 2; i++)
        {
          a = lf_npy_read (s, &error);
          LF_ASSERT_NO_ERROR (error);
          lf_node_unref (a);
        }
      guint64 left;
      ck_assert (lf_stream_get_remaining (s, &left));
      ck_assert_uint_eq (left, 5);
      ck_assert_uint_eq (lf_stream_tell (s), size - 5);
      ck_assert (lf_npy_read (s, &error) == NULL);
      LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "found \"tail\\x0a\"");
      lf_stream_free (s);
    }
}
END_TEST

typedef struct {
  int fd;
  GBytes *bytes;
} Feeder;

static gpointer
feed_pipe (gpointer user_data)
{
  Feeder *f = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (f->bytes, &size);
  /* Odd-sized pieces so headers and data arrive split. */
  for (gsize at = 0; at < size;)
    {
      gsize n = MIN (size - at, 37);
      gssize w = write (f->fd, data + at, n);
      if (w <= 0)
        break;
      at += (gsize) w;
    }
  close (f->fd);
  return NULL;
}

START_TEST (test_read_from_pipe)
{
  GError *error = NULL;
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  GPtrArray *leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  for (gsize d = 0; d < G_N_ELEMENTS (all_dtypes); d++)
    {
      gsize shape[] = { 3, d + 1 };
      LfNode *a = make_array (all_dtypes[d], 2, shape);
      ck_assert (lf_npy_write (out, a, 0, &error));
      g_ptr_array_add (leaves, a);
    }
  g_autoptr (GBytes) all = lf_stream_steal_bytes (out);
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  Feeder f = { fds[1], all };
  GThread *thread = g_thread_new ("feeder", feed_pipe, &f);
  g_autoptr (LfStream) in = lf_stream_new_for_fd (fds[0], TRUE);
  for (guint i = 0; i < leaves->len; i++)
    {
      g_autoptr (LfNode) back = lf_npy_read (in, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert (lf_tree_equal (back, leaves->pdata[i]));
    }
  gboolean at_end;
  ck_assert (lf_stream_at_end (in, &at_end, &error));
  ck_assert (at_end);
  g_thread_join (thread);
  g_ptr_array_unref (leaves);
}
END_TEST

/* lf_npy_describe_at: the second of two records back to back, described
 * from the stream's position without moving it. */
START_TEST (test_describe_at)
{
  GError *error = NULL;
  gsize two = 2, shape[2] = { 3, 4 };
  double params[2] = { 0.5, 1.0 };
  g_autoptr (LfNode) first = lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &two, params);
  g_autoptr (LfNode) second = lf_array_new_zeros (LF_DTYPE_INT16, 2, shape);
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_npy_write (out, first, 0, &error) && lf_npy_write (out, second, 0, &error));
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);

  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfRecordInfo) a = lf_record_info_new ();
  g_autoptr (LfRecordInfo) b = lf_record_info_new ();
  ck_assert (lf_npy_describe (in, a, &error));
  LF_ASSERT_NO_ERROR (error);
  guint64 second_at = lf_record_info_get_stored_size (a);
  ck_assert_uint_eq (second_at, 128 + 16);
  ck_assert (lf_npy_describe_at (in, second_at, b, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lf_record_info_get_dtype (b), LF_DTYPE_INT16);
  ck_assert_uint_eq (lf_record_info_get_ndim (b), 2);
  ck_assert_uint_eq (lf_record_info_get_shape (b)[1], 4);
  ck_assert_uint_eq (lf_record_info_get_stored_size (b), 128 + 24);
  ck_assert_uint_eq (lf_stream_tell (in), 0);

  /* Not at a record: the parser's words; a header cut short: truncated;
   * past what a description may peek at: refused before anything is read. */
  ck_assert (!lf_npy_describe_at (in, 1, b, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, "not an npy record");
  g_autoptr (GBytes) cut = g_bytes_new_from_bytes (bytes, 0, second_at + 20);
  g_autoptr (LfStream) short_in = lf_stream_new_for_bytes (cut);
  ck_assert (!lf_npy_describe_at (short_in, second_at, b, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, NULL);
  ck_assert (!lf_npy_describe_at (in, LF_STREAM_PEEK_MAX, b, &error));
  g_autofree char *past = g_strdup_printf ("past the %" G_GSIZE_FORMAT " bytes", LF_STREAM_PEEK_MAX);
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, past);
  ck_assert_uint_eq (lf_stream_tell (in), 0);

  /* The stream still reads both records from the start. */
  g_autoptr (LfNode) back1 = lf_npy_read (in, &error);
  g_autoptr (LfNode) back2 = lf_npy_read (in, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back1, first) && lf_tree_equal (back2, second));
}
END_TEST

START_TEST (test_read_mapped_zero_copy)
{
  GError *error = NULL;
  gsize shape[] = { 1000 };
  g_autoptr (LfNode) a = make_array (LF_DTYPE_FLOAT32, 1, shape);
  g_autoptr (GBytes) rec = write_record (a, 0);
  g_autofree char *path = lf_test_path ("mapped.npy");
  lf_test_write_file (path, g_bytes_get_data (rec, NULL), g_bytes_get_size (rec));
  g_autoptr (LfStream) s = lf_stream_new_for_path (path, TRUE, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) back = lf_npy_read (s, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (a, back));
  /* The leaf's data is the mapping itself: page offset 128 of the map. */
  ck_assert_uint_eq (GPOINTER_TO_SIZE (lf_array_get_data (back)) % 4096, 128);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("npy");
  TCase *tc = tcase_create ("header");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_format_worked_examples);
  tcase_add_test (tc, test_format_padding_rule);
  tcase_add_test (tc, test_format_zero_size_and_rank);
  tcase_add_test (tc, test_format_align_and_v2);
  tcase_add_test (tc, test_parse_valid_dicts);
  tcase_add_test (tc, test_parse_malformed_dicts);
  tcase_add_test (tc, test_parse_limits);
  tcase_add_test (tc, test_parse_versions);
  tcase_add_test (tc, test_parse_bad_prefix);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("records");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_round_trip_all);
  tcase_add_test (tc, test_write_scalars);
  tcase_add_test (tc, test_write_refused);
  tcase_add_test (tc, test_write_aligned);
  tcase_add_test (tc, test_read_byte_swapped);
  tcase_add_test (tc, test_read_fortran);
  tcase_add_test (tc, test_read_bfloat16);
  tcase_add_test (tc, test_read_truncated);
  tcase_add_test (tc, test_exact_consumption);
  tcase_add_test (tc, test_read_from_pipe);
  tcase_add_test (tc, test_read_mapped_zero_copy);
  tcase_add_test (tc, test_describe_at);
  suite_add_tcase (suite, tc);
  return suite;
}
