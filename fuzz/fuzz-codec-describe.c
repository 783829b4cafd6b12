/* Fuzz target: the codec describe step, lf_codec_describe(), on random
 * bytes, for the codecs whose records describe themselves (npy,
 * compressed around npy and float16, and blosc where c-blosc is installed).
 *
 * Properties beyond "no crash, no leak, no UB, errors are ours":
 * - describing never moves the stream and reads at most the peek window;
 * - a description is self-consistent (header within the record, a
 *   decoded size that is the elements times the dtype's size);
 * - the abstract array it describes passes lf_record_info_check_like();
 * - when the record then decodes (with no template, bounded in size), the
 *   leaf has the described dtype and shape and the stream ends the record
 *   where the description said (stored size). */
#include "fuzz-common.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static LfRegistry *registry;
static LfCodec *codecs[4];
static gsize n_codecs;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  registry = fuzz_init ();
  const char *const references[] = { "npy", "compressed", "compressed(inner=float16)",
                                     "blosc" };
  for (gsize i = 0; i < G_N_ELEMENTS (references); i++)
    {
      GError *error = NULL;
      codecs[i] = lf_registry_resolve (registry, references[i], &error);
      /* blosc: only where the fuzz build found c-blosc. */
      if (codecs[i] == NULL && strcmp (references[i], "blosc") == 0
          && g_error_matches (error, LF_ERROR, LF_ERROR_UNKNOWN_CODEC))
        {
          g_clear_error (&error);
          break;
        }
      FUZZ_CHECK (codecs[i] != NULL, "%s: %s", references[i], error->message);
      n_codecs = i + 1;
    }
  return 0;
}

/* Decodes what `info` described and compares. */
static void
check_decode (LfCodec *codec, const uint8_t *data, size_t size, const LfRecordInfo *info)
{
  /* The fuzzer's malloc limit is 64 MB; stay well below it. */
  if (lf_record_info_get_decoded_size (info) > (1 << 20)
      || lf_record_info_get_kind (info) != LF_NODE_ARRAY)
    return;
  g_autoptr (LfStream) stream = lf_stream_new_for_data (data, size);
  g_autoptr (LfPath) path = lf_path_new ();
  GError *error = NULL;
  g_autoptr (LfNode) leaf = lf_codec_deserialise (codec, stream, path, NULL, &error);
  if (leaf == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
      return;
    }
  FUZZ_CHECK (lf_node_get_kind (leaf) == LF_NODE_ARRAY, "decoded a %s",
              lf_node_kind_name (lf_node_get_kind (leaf)));
  FUZZ_CHECK (lf_array_get_ndim (leaf) == lf_record_info_get_ndim (info), "ndim %u vs %u",
              lf_array_get_ndim (leaf), lf_record_info_get_ndim (info));
  for (guint d = 0; d < lf_array_get_ndim (leaf); d++)
    FUZZ_CHECK (lf_array_get_shape (leaf)[d] == lf_record_info_get_shape (info)[d],
                "dimension %u differs", d);
  FUZZ_CHECK (lf_stream_tell (stream) == lf_record_info_get_stored_size (info),
              "decoding consumed %" G_GUINT64_FORMAT " bytes, the description says %"
              G_GUINT64_FORMAT, lf_stream_tell (stream),
              lf_record_info_get_stored_size (info));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  for (gsize i = 0; i < n_codecs; i++)
    {
      g_autoptr (LfStream) stream = lf_stream_new_for_data (data, size);
      g_autoptr (LfRecordInfo) info = lf_record_info_new ();
      GError *error = NULL;
      gboolean ok = lf_codec_describe (codecs[i], stream, NULL, info, &error);
      FUZZ_CHECK (lf_stream_tell (stream) == 0, "describe moved the stream");
      if (!ok)
        {
          fuzz_check_error (error);
          g_clear_error (&error);
          continue;
        }
      FUZZ_CHECK (error == NULL, "a description and an error");
      guint64 stored = lf_record_info_get_stored_size (info);
      FUZZ_CHECK (lf_record_info_get_header_size (info) <= stored,
                  "header of %" G_GUINT64_FORMAT " bytes in a record of %" G_GUINT64_FORMAT,
                  lf_record_info_get_header_size (info), stored);
      if (lf_record_info_get_kind (info) == LF_NODE_ARRAY)
        {
          LfDType dtype = lf_record_info_get_dtype (info);
          guint64 elements = lf_record_info_get_n_elements (info);
          FUZZ_CHECK (lf_record_info_get_decoded_size (info)
                      == elements * lf_dtype_size (dtype),
                      "decoded size %" G_GUINT64_FORMAT " for %" G_GUINT64_FORMAT " elements",
                      lf_record_info_get_decoded_size (info), elements);
          g_autoptr (LfNode) like = lf_array_new_abstract (dtype,
                                                           lf_record_info_get_ndim (info),
                                                           lf_record_info_get_shape (info));
          ok = lf_record_info_check_like (info, like, 0, &error);
          FUZZ_CHECK (ok, "the described array does not fit its own description: %s",
                      error != NULL ? error->message : "?");
        }
      check_decode (codecs[i], data, size, info);
    }
  return 0;
}
