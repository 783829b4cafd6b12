/* Fuzz target: the npy header parser and the record reader.
 *
 * The input goes to lf_npy_header_parse (a header in memory), to
 * lf_npy_header_parse_dict (the dict text alone) and to lf_npy_read (header
 * and data from a stream).  A header that parses must be self-consistent
 * (sizes, dims, dtype), must format back to a header that parses to the
 * same dtype and shape, and lf_npy_read must agree with it. */
#include "fuzz-common.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  g_log_set_default_handler (fuzz_log_handler, NULL);
  g_log_set_handler ("leafio", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, fuzz_log_handler, NULL);
  g_log_set_handler ("GLib", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, fuzz_log_handler, NULL);
  return 0;
}

static void
check_header (const LfNpyHeader *h)
{
  FUZZ_CHECK (h->dtype > LF_DTYPE_INVALID && h->dtype < LF_DTYPE_LAST, "dtype %d", h->dtype);
  FUZZ_CHECK (h->ndim <= LF_MAX_NDIM, "ndim %u", h->ndim);
  gsize n_bytes = 0;
  FUZZ_CHECK (lf_shape_n_bytes (h->dtype, h->ndim, h->shape, &n_bytes),
              "accepted a shape whose size overflows");
  FUZZ_CHECK (n_bytes == h->data_size, "data_size %zu, shape says %zu", h->data_size, n_bytes);
  FUZZ_CHECK (memchr (h->descr, '\0', sizeof h->descr) != NULL, "descr not terminated");

  /* What we write for this dtype and shape parses back to the same. */
  char text[LF_NPY_HEADER_MAX];
  gsize len = lf_npy_header_format (text, sizeof text, h->dtype, h->ndim, h->shape, 0, 0);
  if (len == 0)
    return;
  FUZZ_CHECK (len % 64 == 0, "formatted header of %zu bytes", len);
  LfNpyHeader back;
  GError *error = NULL;
  FUZZ_CHECK (lf_npy_header_parse ((const guint8 *) text, len, &back, &error),
              "own header refused: %s", error->message);
  FUZZ_CHECK (back.dtype == h->dtype && back.ndim == h->ndim
              && memcmp (back.shape, h->shape, h->ndim * sizeof (gsize)) == 0
              && !back.swap && !back.fortran_order && back.header_size == len,
              "own header parsed differently");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  LfNpyHeader header;
  GError *error = NULL;
  gboolean parsed = lf_npy_header_parse (data, size, &header, &error);
  if (parsed)
    {
      FUZZ_CHECK (error == NULL, "success with an error");
      FUZZ_CHECK (header.header_size <= size, "header_size %zu > input %zu",
                  header.header_size, size);
      check_header (&header);
    }
  else
    fuzz_check_error (error);
  g_clear_error (&error);

  LfNpyHeader dict;
  if (lf_npy_header_parse_dict ((const char *) data, size, &dict, &error))
    check_header (&dict);
  else
    fuzz_check_error (error);
  g_clear_error (&error);

  /* The stream reader agrees with the in-memory parser on the header. */
  g_autoptr (LfStream) stream = lf_stream_new_for_data (data, size);
  g_autoptr (LfNode) leaf = lf_npy_read (stream, &error);
  if (leaf == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
      return 0;
    }
  FUZZ_CHECK (parsed, "lf_npy_read accepted what lf_npy_header_parse refused");
  FUZZ_CHECK (lf_node_get_kind (leaf) == LF_NODE_ARRAY, "not an array");
  FUZZ_CHECK (lf_array_get_dtype (leaf) == header.dtype
              && lf_array_get_ndim (leaf) == header.ndim
              && lf_array_get_n_bytes (leaf) == header.data_size,
              "leaf differs from its header");
  FUZZ_CHECK (lf_stream_tell (stream) == header.header_size + header.data_size,
              "consumed %" G_GUINT64_FORMAT " bytes", lf_stream_tell (stream));

  /* Written back and read again: the same array. */
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  FUZZ_CHECK (lf_npy_write (out, leaf, 0, &error), "write: %s", error->message);
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) again = lf_npy_read (in, &error);
  FUZZ_CHECK (again != NULL, "re-read: %s", error->message);
  FUZZ_CHECK (lf_tree_equal (again, leaf), "re-read array differs");
  return 0;
}
