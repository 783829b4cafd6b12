/* Codecs describing their records: every built-in codec and the example
 * int8-affine plugin, through every kind of stream.  A description matches
 * the record, moves nothing, and the load that follows reads the same
 * record and nothing after it; a wrong `like` is refused before anything
 * is decoded (with the memory to show for it); broken records get errors
 * that say what is wrong.  Also each codec's declared capabilities. */
#include "config.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "test-common.h"

/* What follows the record in every stream: the caller's own bytes. */
#define TAIL "TAIL"
#define TAIL_LEN 4

/* ---- helpers ------------------------------------------------------------------ */

/* Every zstd decompression in this program, the plugins' included, comes
 * here (the program exports the name: -export-dynamic), and the bytes zstd
 * gives are counted before the real function's result is returned. */
static gsize zstd_bytes_out;

size_t
ZSTD_decompressStream (ZSTD_DCtx *dctx, ZSTD_outBuffer *output, ZSTD_inBuffer *input)
{
  static size_t (*real) (ZSTD_DCtx *, ZSTD_outBuffer *, ZSTD_inBuffer *);
  if (real == NULL)
    *(void **) &real = dlsym (RTLD_NEXT, "ZSTD_decompressStream");
  ck_assert_msg (real != NULL, "libzstd's ZSTD_decompressStream not found");
  gsize before = output->pos;
  size_t status = real (dctx, output, input);
  zstd_bytes_out += output->pos - before;
  return status;
}

static void
ensure_int8_affine (void)
{
  LfRegistry *registry = lf_registry_get_default ();
  if (lf_registry_lookup (registry, "int8-affine") != NULL)
    return;
  const char *builddir = g_getenv ("LF_TEST_BUILDDIR");
  g_autofree char *path = g_strdup_printf ("%s/plugins/.libs/int8-affine.so",
                                           builddir != NULL ? builddir : ".");
  GError *error = NULL;
  ck_assert_msg (lf_registry_load_plugin (registry, path, &error), "%s: %s", path,
                 error != NULL ? error->message : "");
}

static LfCodec *
codec_for (const char *reference)
{
  GError *error = NULL;
  ensure_int8_affine ();
  LfCodec *codec = lf_registry_resolve (lf_registry_get_default (), reference, &error);
  LF_ASSERT_NO_ERROR (error);
  return codec;
}

/* One record of `leaf`, as `reference` writes it at the start of a file. */
static GBytes *
record_of (const char *reference, LfNode *leaf)
{
  GError *error = NULL;
  g_autoptr (LfCodec) codec = codec_for (reference);
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_codec_serialise (codec, out, NULL, leaf, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_stream_flush (out, &error));
  return lf_stream_steal_bytes (out);
}

static LfNode *
f32_array_2x3 (void)
{
  static const float v[] = { 0.5f, -1.25f, 3, 1e-3f, 65000, -7 };
  gsize shape[] = { 2, 3 };
  return lf_array_new_copy (LF_DTYPE_FLOAT32, 2, shape, v);
}

static LfNode *
abstract (LfDType dtype, gsize d0, gsize d1)
{
  gsize shape[] = { d0, d1 };
  return lf_array_new_abstract (dtype, d1 > 0 ? 2 : 1, shape);
}

/* ---- streams of every kind over the same bytes -------------------------------- */

typedef enum {
  VIA_MEMORY, VIA_PATH, VIA_MAPPED_PATH, VIA_FD, VIA_PIPE, VIA_FILE, VIA_CALLBACKS, N_VIA
} Via;

static const char *const via_names[] = {
  "memory", "path", "mapped path", "fd", "pipe", "FILE", "callbacks"
};

typedef struct {
  const guint8 *data;
  gsize size, at;
} Feed;

static gssize
feed_read (gpointer user_data, void *buffer, gsize count, GError **error)
{
  Feed *feed = user_data;
  gsize n = MIN (MIN (count, 7), feed->size - feed->at);   /* dribbles */
  memcpy (buffer, feed->data + feed->at, n);
  feed->at += n;
  return (gssize) n;
}

typedef struct {
  int fd;
  const guint8 *data;
  gsize size;
} PipeFeed;

static gpointer
pipe_feed (gpointer user_data)
{
  PipeFeed *p = user_data;
  for (gsize at = 0; at < p->size;)
    {
      gssize n = write (p->fd, p->data + at, MIN (p->size - at, 4096));
      if (n <= 0)
        break;
      at += (gsize) n;
    }
  close (p->fd);
  return NULL;
}

typedef struct {
  Via via;
  GBytes *bytes;
  LfStream *stream;
  int fd;
  FILE *file;
  Feed feed;
  PipeFeed pipe;
  GThread *writer;
} Source;

static void
source_open (Source *src, Via via, GBytes *bytes)
{
  GError *error = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  memset (src, 0, sizeof *src);
  src->via = via;
  src->bytes = g_bytes_ref (bytes);
  src->fd = -1;
  g_autofree char *path = lf_test_path ("record.bin");
  if (via != VIA_MEMORY && via != VIA_PIPE && via != VIA_CALLBACKS)
    lf_test_write_file (path, data, size);
  switch (via)
    {
    case VIA_MEMORY:
      src->stream = lf_stream_new_for_bytes (bytes);
      break;
    case VIA_PATH:
    case VIA_MAPPED_PATH:
      src->stream = lf_stream_new_for_path (path, via == VIA_MAPPED_PATH, &error);
      LF_ASSERT_NO_ERROR (error);
      break;
    case VIA_FD:
      src->fd = open (path, O_RDONLY);
      ck_assert_int_ge (src->fd, 0);
      src->stream = lf_stream_new_for_fd (src->fd, FALSE);
      break;
    case VIA_PIPE:
      {
        int fds[2];
        ck_assert_int_eq (pipe (fds), 0);
        src->fd = fds[0];
        src->pipe = (PipeFeed) { fds[1], data, size };
        src->writer = g_thread_new ("pipe feed", pipe_feed, &src->pipe);
        src->stream = lf_stream_new_for_fd (src->fd, FALSE);
        break;
      }
    case VIA_FILE:
      src->file = fopen (path, "rb");
      ck_assert_ptr_nonnull (src->file);
      src->stream = lf_stream_new_for_file (src->file);
      break;
    case VIA_CALLBACKS:
      src->feed = (Feed) { data, size, 0 };
      src->stream = lf_stream_new_for_callbacks (feed_read, NULL, &src->feed, NULL);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Frees the stream, then checks that what comes next for the caller (from
 * its fd, FILE or callbacks; from the stream itself for memory and paths)
 * is TAIL: the stream consumed the record and not a byte more. */
static void
source_close_expecting_tail (Source *src)
{
  GError *error = NULL;
  char tail[TAIL_LEN + 1] = { 0 };
  if (src->via == VIA_MEMORY || src->via == VIA_PATH || src->via == VIA_MAPPED_PATH)
    {
      ck_assert (lf_stream_read (src->stream, tail, TAIL_LEN, &error));
      LF_ASSERT_NO_ERROR (error);
    }
  lf_stream_free (src->stream);
  if (src->via == VIA_FD || src->via == VIA_PIPE)
    {
      gsize got = 0;
      while (got < TAIL_LEN)
        {
          gssize n = read (src->fd, tail + got, TAIL_LEN - got);
          ck_assert_int_gt (n, 0);
          got += (gsize) n;
        }
      close (src->fd);
    }
  else if (src->via == VIA_FILE)
    {
      ck_assert_uint_eq (fread (tail, 1, TAIL_LEN, src->file), TAIL_LEN);
      fclose (src->file);
    }
  else if (src->via == VIA_CALLBACKS)
    {
      ck_assert_uint_eq (src->feed.at, src->feed.size - TAIL_LEN);
      memcpy (tail, src->feed.data + src->feed.at, TAIL_LEN);
    }
  ck_assert_msg (strcmp (tail, TAIL) == 0, "%s: the caller's bytes after the record are "
                 "\"%s\"", via_names[src->via], tail);
  if (src->writer != NULL)
    g_thread_join (src->writer);
  g_bytes_unref (src->bytes);
}

/* ---- describing every codec through every stream ------------------------------- */

typedef struct {
  LfNodeKind kind;
  LfDType dtype, stored_dtype;
  guint ndim;
  gsize shape[2];
  guint64 decoded_size;
  const char *inner_reference;    /* NULL: none */
} Expect;

static void
assert_info (const LfRecordInfo *info, const Expect *want, gsize record_size, const char *what)
{
  ck_assert_msg (lf_record_info_get_kind (info) == want->kind, "%s: kind", what);
  ck_assert_msg (lf_record_info_get_dtype (info) == want->dtype, "%s: dtype %s", what,
                 lf_dtype_name (lf_record_info_get_dtype (info)));
  ck_assert_msg (lf_record_info_get_stored_dtype (info) == want->stored_dtype,
                 "%s: stored dtype %s", what,
                 lf_dtype_name (lf_record_info_get_stored_dtype (info)));
  ck_assert_uint_eq (lf_record_info_get_ndim (info), want->ndim);
  for (guint i = 0; i < want->ndim; i++)
    ck_assert_uint_eq (lf_record_info_get_shape (info)[i], want->shape[i]);
  ck_assert_msg (lf_record_info_get_stored_size (info) == record_size,
                 "%s: stored size %" G_GUINT64_FORMAT ", the record has %" G_GSIZE_FORMAT,
                 what, lf_record_info_get_stored_size (info), record_size);
  ck_assert (lf_record_info_get_header_size (info) < record_size);
  ck_assert_msg (lf_record_info_get_decoded_size (info) == want->decoded_size,
                 "%s: decoded size %" G_GUINT64_FORMAT, what,
                 lf_record_info_get_decoded_size (info));
  ck_assert_str_eq (lf_record_info_get_inner_reference (info) != NULL
                        ? lf_record_info_get_inner_reference (info) : "(none)",
                    want->inner_reference != NULL ? want->inner_reference : "(none)");
  ck_assert ((lf_record_info_get_inner (info) != NULL) == (want->inner_reference != NULL));
}

/* The leaf a load returned is the leaf the description announced. */
static void
assert_loaded_as_described (LfNode *loaded, const LfRecordInfo *info, const char *what)
{
  ck_assert_msg (lf_node_get_kind (loaded) == LF_NODE_ARRAY, "%s: kind", what);
  ck_assert_int_eq (lf_array_get_dtype (loaded), lf_record_info_get_dtype (info));
  ck_assert_uint_eq (lf_array_get_ndim (loaded), lf_record_info_get_ndim (info));
  for (guint i = 0; i < lf_array_get_ndim (loaded); i++)
    ck_assert_uint_eq (lf_array_get_shape (loaded)[i], lf_record_info_get_shape (info)[i]);
  ck_assert_uint_eq (lf_array_get_n_bytes (loaded), lf_record_info_get_decoded_size (info));
}

/* Describes the record `reference` writes for `leaf`, for `like`, through
 * every kind of stream, then loads it from the same stream. */
static void
assert_describes (const char *reference, LfNode *leaf, LfNode *like, const Expect *want)
{
  g_autoptr (LfCodec) codec = codec_for (reference);
  ck_assert (lf_codec_can_describe (codec));
  g_autoptr (GBytes) record = record_of (reference, leaf);
  gsize record_size = g_bytes_get_size (record);
  g_autoptr (GByteArray) file = g_byte_array_new ();
  g_byte_array_append (file, g_bytes_get_data (record, NULL), (guint) record_size);
  g_byte_array_append (file, (const guint8 *) TAIL, TAIL_LEN);
  g_autoptr (GBytes) bytes = g_bytes_new (file->data, file->len);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();

  for (Via via = 0; via < N_VIA; via++)
    {
      GError *error = NULL;
      g_autofree char *what = g_strdup_printf ("%s via %s", reference, via_names[via]);
      Source src;
      source_open (&src, via, bytes);
      ck_assert_msg (lf_codec_describe (codec, src.stream, like, info, &error), "%s: %s",
                     what, error->message);
      assert_info (info, want, record_size, what);
      ck_assert_uint_eq (lf_stream_tell (src.stream), 0);
      /* What describe took from the caller's callbacks: never past the
       * record, nor past the most a peek shows. */
      if (via == VIA_CALLBACKS)
        ck_assert_uint_le (src.feed.at, MIN (record_size, LF_STREAM_PEEK_MAX));
      /* Twice: describing is repeatable. */
      ck_assert (lf_codec_describe (codec, src.stream, like, info, &error));
      assert_info (info, want, record_size, what);

      g_autoptr (LfNode) loaded = lf_codec_deserialise (codec, src.stream, NULL, like, &error);
      ck_assert_msg (loaded != NULL, "%s: %s", what, error != NULL ? error->message : "");
      assert_loaded_as_described (loaded, info, what);
      ck_assert_uint_eq (lf_stream_tell (src.stream), record_size);
      source_close_expecting_tail (&src);
    }
}

START_TEST (test_describe_npy)
{
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  Expect want = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT32, 2, { 2, 3 }, 24, NULL };
  assert_describes ("npy", leaf, NULL, &want);
  assert_describes ("npy(align=64)", leaf, leaf, &want);
}
END_TEST

/* skip-arrays' records are npy records of scalars, described as npy does
 * (a 0-d array, which a scalar `like` takes). */
START_TEST (test_describe_skip_arrays)
{
  g_autoptr (LfNode) leaf = lf_scalar_new_float (0.25);
  Expect want = { LF_NODE_ARRAY, LF_DTYPE_FLOAT64, LF_DTYPE_FLOAT64, 0, { 0 }, 8, NULL };
  assert_describes ("skip-arrays", leaf, leaf, &want);
  assert_describes ("skip-arrays", leaf, NULL, &want);
}
END_TEST

START_TEST (test_describe_float16)
{
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (LfNode) like = abstract (LF_DTYPE_FLOAT32, 2, 3);
  Expect as_like = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT16, 2, { 2, 3 }, 24, NULL };
  assert_describes ("float16", leaf, like, &as_like);
  assert_describes ("float16(overflow=error, inner=npy(align=128))", leaf, like, &as_like);
  /* A float64 `like` decodes the same record to float64. */
  g_autoptr (LfNode) like64 = abstract (LF_DTYPE_FLOAT64, 2, 3);
  Expect as_f64 = { LF_NODE_ARRAY, LF_DTYPE_FLOAT64, LF_DTYPE_FLOAT16, 2, { 2, 3 }, 48, NULL };
  assert_describes ("float16", leaf, like64, &as_f64);
  /* Without a `like`, as stored. */
  Expect as_stored = { LF_NODE_ARRAY, LF_DTYPE_FLOAT16, LF_DTYPE_FLOAT16, 2, { 2, 3 }, 12, NULL };
  assert_describes ("float16", leaf, NULL, &as_stored);
  /* Other leaves go to the inner codec unchanged. */
  gint32 ints[] = { 1, 2, 3 };
  gsize n = 3;
  g_autoptr (LfNode) int_leaf = lf_array_new_copy (LF_DTYPE_INT32, 1, &n, ints);
  Expect as_int = { LF_NODE_ARRAY, LF_DTYPE_INT32, LF_DTYPE_INT32, 1, { 3 }, 12, NULL };
  assert_describes ("float16", int_leaf, int_leaf, &as_int);
}
END_TEST

START_TEST (test_describe_cast)
{
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (LfNode) like64 = abstract (LF_DTYPE_FLOAT64, 2, 3);
  Expect as_f64 = { LF_NODE_ARRAY, LF_DTYPE_FLOAT64, LF_DTYPE_FLOAT32, 2, { 2, 3 }, 48, NULL };
  assert_describes ("cast", leaf, like64, &as_f64);
  Expect as_stored = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT32, 2, { 2, 3 }, 24, NULL };
  assert_describes ("cast", leaf, NULL, &as_stored);
  /* Around float16: stored as float16, loaded into float64. */
  Expect via_half = { LF_NODE_ARRAY, LF_DTYPE_FLOAT64, LF_DTYPE_FLOAT16, 2, { 2, 3 }, 48, NULL };
  assert_describes ("cast(lossy=allow, inner=float16)", leaf, like64, &via_half);
}
END_TEST

START_TEST (test_describe_compressed)
{
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (LfNode) like = abstract (LF_DTYPE_FLOAT32, 2, 3);
  Expect plain = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT32, 2, { 2, 3 }, 24, "npy" };
  assert_describes ("compressed", leaf, like, &plain);
  assert_describes ("compressed", leaf, NULL, &plain);
  Expect half = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT16, 2, { 2, 3 }, 24,
                  "float16" };
  assert_describes ("compressed(inner=float16)", leaf, like, &half);
  Expect nested = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT32, 2, { 2, 3 }, 24,
                    "compressed(level=1)" };
  assert_describes ("compressed(inner=compressed(level=1))", leaf, like, &nested);

  /* The description carries the inner record's. */
  g_autoptr (LfCodec) codec = codec_for ("compressed(inner=float16)");
  g_autoptr (GBytes) record = record_of ("compressed(inner=float16)", leaf);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (record);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  GError *error = NULL;
  ck_assert (lf_codec_describe (codec, in, like, info, &error));
  const LfRecordInfo *inner = lf_record_info_get_inner (info);
  ck_assert_int_eq (lf_record_info_get_stored_dtype (inner), LF_DTYPE_FLOAT16);
  ck_assert_uint_eq (lf_record_info_get_stored_size (inner), 128 + 12);
  ck_assert_uint_eq (lf_record_info_get_header_size (inner), 128);
}
END_TEST

/* A load right after describe, as the walker and lf_file_read() do, goes
 * on from the bytes describe decompressed instead of decompressing them
 * again; a record whose frame differs from the described one in those
 * bytes is decompressed from its start. */
START_TEST (test_compressed_load_after_describe_decompresses_once)
{
  gsize n = 1024;
  g_autofree guint32 *values = g_new (guint32, n);
  guint32 x = 88172645u;
  for (gsize i = 0; i < n; i++)
    values[i] = x = x * 1664525u + 1013904223u;
  g_autoptr (LfNode) leaf = lf_array_new_copy (LF_DTYPE_UINT32, 1, &n, values);
  g_autoptr (LfNode) like = abstract (LF_DTYPE_UINT32, n, 0);
  g_autoptr (LfCodec) codec = codec_for ("compressed");
  g_autoptr (GBytes) record = record_of ("compressed", leaf);
  gsize raw_size = 128 + n * 4;   /* the npy record inside */
  GError *error = NULL;

  zstd_bytes_out = 0;
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (record);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  ck_assert (lf_codec_describe (codec, in, like, info, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_gt (zstd_bytes_out, 0);
  g_autoptr (LfNode) loaded = lf_codec_deserialise (codec, in, NULL, like, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, leaf));
  ck_assert_uint_eq (zstd_bytes_out, raw_size);

  /* The same head, another frame: a byte of what describe took changed. */
  gsize size = g_bytes_get_size (record);
  g_autofree guint8 *changed = g_memdup2 (g_bytes_get_data (record, NULL), size);
  gsize frame_start = 40 + strlen ("npy");
  changed[frame_start + 8] ^= 0x55;
  g_autoptr (LfStream) again = lf_stream_new_for_bytes (record);
  ck_assert (lf_codec_describe (codec, again, like, info, &error));
  g_autoptr (LfStream) other = lf_stream_new_for_data (changed, size);
  ck_assert (lf_codec_deserialise (codec, other, NULL, like, &error) == NULL);
  ck_assert (error != NULL);
  g_clear_error (&error);

  /* Wrapped twice: each level's load finds its own describe's state, or
   * none, never the other's. */
  g_autoptr (LfCodec) nested = codec_for ("compressed(inner=compressed(level=1))");
  g_autoptr (GBytes) nested_record = record_of ("compressed(inner=compressed(level=1))", leaf);
  g_autoptr (LfStream) nested_in = lf_stream_new_for_bytes (nested_record);
  ck_assert (lf_codec_describe (nested, nested_in, like, info, &error));
  g_autoptr (LfNode) nested_loaded = lf_codec_deserialise (nested, nested_in, NULL, like,
                                                           &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (nested_loaded, leaf));
}
END_TEST

/* A leaf of 4 MiB that does not compress: its frame is far longer than
 * describe may look ahead, and written streamed (no content size in the
 * frame).  Describe reads a bounded prefix and the load all of it. */
START_TEST (test_describe_compressed_big)
{
  gsize n = (gsize) 1 << 20;
  g_autofree guint32 *values = g_new (guint32, n);
  guint32 x = 2463534242u;
  for (gsize i = 0; i < n; i++)
    {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      values[i] = (x & 0x3fffffffu) | 0x3c000000u;   /* finite floats */
    }
  g_autoptr (LfNode) leaf = lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &n, values);
  Expect want = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_FLOAT32, 1, { n }, n * 4, "npy" };
  assert_describes ("compressed(level=1)", leaf, leaf, &want);
}
END_TEST

/* A record as leafio 0.1 wrote it: the whole inner record compressed in
 * one call, so the frame's first block holds 128 KiB of noise and
 * compresses to more than 100 KiB.  Describing it must still reach the
 * inner header, or such files would no longer load. */
static GBytes *
legacy_compressed_record (gsize n, float **values_out)
{
  float *values = g_new (float, n);
  guint32 state = 12345;
  for (gsize i = 0; i < n; i++)
    {
      state = state * 1664525u + 1013904223u;
      values[i] = (float) state / 4294967296.0f - 0.5f;
    }
  char header[LF_NPY_HEADER_MAX];
  gsize header_len = lf_npy_header_format (header, sizeof header, LF_DTYPE_FLOAT32, 1, &n, 0, 0);
  gsize raw_size = header_len + n * 4;
  guint8 *raw = g_malloc (raw_size);
  memcpy (raw, header, header_len);
  memcpy (raw + header_len, values, n * 4);
  gsize bound = ZSTD_compressBound (raw_size);
  guint8 *frame = g_malloc (bound);
  gsize frame_size = ZSTD_compress (frame, bound, raw, raw_size, 3);
  ck_assert (!ZSTD_isError (frame_size));

  GByteArray *record = g_byte_array_new ();
  guint8 head[40] = "\x93LFZSTD\x01";
  guint32 ref_len = GUINT32_TO_LE (3);
  guint64 raw_le = GUINT64_TO_LE (raw_size), frame_le = GUINT64_TO_LE (frame_size);
  guint64 hash_le = GUINT64_TO_LE (XXH3_64bits (raw, raw_size));
  memcpy (head + 8, &ref_len, 4);
  memcpy (head + 16, &raw_le, 8);
  memcpy (head + 24, &frame_le, 8);
  memcpy (head + 32, &hash_le, 8);
  g_byte_array_append (record, head, sizeof head);
  g_byte_array_append (record, (const guint8 *) "npy", 3);
  g_byte_array_append (record, frame, (guint) frame_size);
  g_free (frame);
  g_free (raw);
  *values_out = values;
  return g_byte_array_free_to_bytes (record);
}

START_TEST (test_describe_compressed_big_first_block)
{
  gsize n = 512 * 1024;
  g_autofree float *values = NULL;
  g_autoptr (GBytes) record = legacy_compressed_record (n, &values);
  g_autofree char *path = lf_test_path ("legacy.eqx");
  lf_test_write_file (path, g_bytes_get_data (record, NULL), g_bytes_get_size (record));

  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_test_spec ("compressed");
  g_autoptr (LfNode) like = lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, &n);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, like, spec, NULL, NULL, &error);
  ck_assert_msg (loaded != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (memcmp (lf_array_get_data (loaded), values, n * 4), 0);

  g_autoptr (LfStream) in = lf_stream_new_for_bytes (record);
  LfCodec *codec = lf_spec_get_codec (spec);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  ck_assert_msg (lf_codec_describe (codec, in, like, info, &error), "%s",
                 error ? error->message : "");
  ck_assert_uint_eq (lf_record_info_get_shape (info)[0], n);
  ck_assert_uint_eq (lf_record_info_get_stored_size (info), g_bytes_get_size (record));
}
END_TEST

START_TEST (test_describe_int8_affine)
{
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  Expect want = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_INT8, 2, { 2, 3 }, 24, NULL };
  assert_describes ("int8-affine", leaf, leaf, &want);
  assert_describes ("int8-affine", leaf, NULL, &want);
  Expect wrapped = { LF_NODE_ARRAY, LF_DTYPE_FLOAT32, LF_DTYPE_INT8, 2, { 2, 3 }, 24,
                     "int8-affine" };
  assert_describes ("compressed(inner=int8-affine)", leaf, leaf, &wrapped);
}
END_TEST

/* ---- a wrong `like` is refused before decoding --------------------------------- */

/* Loads `bytes` through callbacks with `reference` for `like` (one leaf in
 * a list), expecting LF_ERROR_MISMATCH with `needle`; the stream must not
 * have moved: the codec's load, which consumes the record, never ran. */
static void
assert_refused_before_decoding (const char *reference, GBytes *bytes, LfNode *like_leaf,
                                const char *needle)
{
  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_test_spec (reference);
  g_autoptr (LfNode) like = lf_list_new_take (1, lf_node_ref (like_leaf));
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  Feed feed = { data, size, 0 };
  g_autoptr (LfStream) in = lf_stream_new_for_callbacks (feed_read, NULL, &feed, NULL);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL,
                                                                      NULL, &error);
  ck_assert_msg (loaded == NULL, "%s: loaded", reference);
  ck_assert_uint_eq (lf_stream_tell (in), 0);
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, needle);
}

START_TEST (test_wrong_like_refused_before_decoding)
{
  ensure_int8_affine ();
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_node_ref (leaf));
  g_autoptr (LfNode) wrong_shape = abstract (LF_DTYPE_FLOAT32, 3, 2);
  g_autoptr (LfNode) wrong_dtype = abstract (LF_DTYPE_INT32, 2, 3);
  static const char *const references[] = {
    "int8-affine", "compressed", "compressed(inner=int8-affine)", "compressed(inner=float16)",
    "float16", "cast",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (references); i++)
    {
      GError *error = NULL;
      g_autoptr (LfSpec) spec = lf_test_spec (references[i]);
      g_autoptr (LfStream) out = lf_stream_new_memory ();
      ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
      ck_assert (lf_stream_flush (out, &error));
      g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
      assert_refused_before_decoding (references[i], bytes, wrong_shape,
                                      "expected float32 array of shape (3, 2), found float32 "
                                      "array of shape (2, 3)");
      /* cast takes another dtype (that is its job); int8-affine has no
       * record for an int32 leaf (it keeps `like`'s); the others refuse. */
      g_autoptr (LfCodec) codec = codec_for (references[i]);
      if (strcmp (references[i], "cast") != 0 && lf_codec_handles (codec, wrong_dtype))
        assert_refused_before_decoding (references[i], bytes, wrong_dtype,
                                        "expected int32 array of shape (2, 3)");
    }
}
END_TEST

/* A codec of the caller's, registered as two functions, cannot describe
 * its records: it stores the raw bytes of a float32 leaf, and reads back
 * as many as `like` holds. */
static gboolean
raw_serialise (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
               GError **error)
{
  return lf_stream_write (out, lf_array_get_data (leaf), lf_array_get_n_bytes (leaf), error);
}

static LfNode *
raw_deserialise (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data,
                 GError **error)
{
  g_autoptr (LfNode) leaf = lf_array_new_zeros (lf_array_get_dtype (like),
                                                lf_array_get_ndim (like),
                                                lf_array_get_shape (like));
  if (!lf_stream_read (in, (gpointer) lf_array_get_data (leaf), lf_array_get_n_bytes (leaf),
                       error))
    return NULL;
  return g_steal_pointer (&leaf);
}

static void
ensure_raw_bytes (void)
{
  GError *error = NULL;
  LfRegistry *registry = lf_registry_get_default ();
  if (lf_registry_lookup (registry, "raw-bytes") == NULL)
    ck_assert (lf_registry_register_func (registry, "raw-bytes", "raw bytes, no header", NULL,
                                          raw_serialise, raw_deserialise, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
}

/* A wrapping codec is only as describable as its inner codec: around one
 * without a describe step, records load as they did before codecs could
 * describe (the walker checks the loaded leaf instead). */
START_TEST (test_wrapper_around_codec_without_describe)
{
  GError *error = NULL;
  ensure_raw_bytes ();
  static const char *const references[] = { "raw-bytes", "compressed(inner=raw-bytes)" };
  for (gsize i = 0; i < G_N_ELEMENTS (references); i++)
    {
      g_autoptr (LfCodec) codec = codec_for (references[i]);
      ck_assert_msg (!lf_codec_can_describe (codec), "%s", references[i]);
      g_autoptr (LfNode) leaf = f32_array_2x3 ();
      g_autoptr (LfNode) tree = lf_list_new_take (1, lf_node_ref (leaf));
      g_autoptr (LfSpec) spec = lf_test_spec (references[i]);
      g_autoptr (LfStream) out = lf_stream_new_memory ();
      ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
      ck_assert (lf_stream_flush (out, &error));
      g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
      g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
      g_autoptr (LfNode) like = lf_list_new_take (1, abstract (LF_DTYPE_FLOAT32, 2, 3));
      g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL, NULL,
                                                                            &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_msg (lf_tree_equal (loaded, tree), "%s", references[i]);
    }
}
END_TEST

/* lf_codec_measure_record(), the step file scans share: a record's size
 * from its description (the stream stays put) or, for a codec without
 * describe, by decoding it (the stream moves past it); a record that does
 * not fit `like`, or that is longer than the file has left, is refused. */
START_TEST (test_measure_record)
{
  GError *error = NULL;
  ensure_raw_bytes ();
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (LfNode) like = abstract (LF_DTYPE_FLOAT32, 2, 3);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  guint64 size;
  LfNode *decoded;

  g_autoptr (LfCodec) npy = codec_for ("npy");
  g_autoptr (GBytes) record = record_of ("npy", leaf);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (record);
  ck_assert (lf_codec_measure_record (npy, in, NULL, like, 1000, info, &size, &decoded,
                                      &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (size, g_bytes_get_size (record));
  ck_assert (decoded == NULL);
  ck_assert_uint_eq (lf_stream_tell (in), 0);
  ck_assert_int_eq (lf_record_info_get_dtype (info), LF_DTYPE_FLOAT32);
  ck_assert (!lf_codec_measure_record (npy, in, NULL, like, size - 1, info, &size, &decoded,
                                       &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "the record needs 152 bytes, the file has 151");
  g_autoptr (LfNode) wrong = abstract (LF_DTYPE_FLOAT32, 3, 2);
  ck_assert (!lf_codec_measure_record (npy, in, NULL, wrong, 1000, info, &size, &decoded,
                                       &error));
  LF_ASSERT_ERROR (error, LF_ERROR_MISMATCH, "shape (3, 2)");

  g_autoptr (LfCodec) raw = codec_for ("raw-bytes");
  g_autoptr (GBytes) raw_record = record_of ("raw-bytes", leaf);
  g_autoptr (LfStream) raw_in = lf_stream_new_for_bytes (raw_record);
  ck_assert (lf_codec_measure_record (raw, raw_in, NULL, like, 1000, info, &size, &decoded,
                                      &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (size, 24);
  ck_assert_uint_eq (lf_stream_tell (raw_in), 24);
  ck_assert (decoded != NULL && lf_tree_equal (decoded, leaf));
  lf_node_unref (decoded);
}
END_TEST

/* Codecs whose describe step breaks the contract: each writes the raw
 * bytes of a leaf, as raw-bytes does, and describes them wrongly. */
static gboolean
raw_class_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                     GError **error)
{
  return raw_serialise (out, path, leaf, NULL, error);
}

static LfNode *
raw_class_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                       GError **error)
{
  return raw_deserialise (in, path, like, NULL, error);
}

static gboolean
describe_consuming (const LfCodec *codec, LfStream *in, const LfNode *like, LfRecordInfo *info,
                    GError **error)
{
  char byte;
  gsize shape[] = { 2, 3 };
  lf_record_info_set_leaf (info, LF_NODE_ARRAY, LF_DTYPE_FLOAT32, 2, shape);
  return lf_stream_read (in, &byte, 1, error);
}

static gboolean
describe_saying_nothing (const LfCodec *codec, LfStream *in, const LfNode *like,
                         LfRecordInfo *info, GError **error)
{
  return TRUE;
}

static gboolean
describe_failing_silently (const LfCodec *codec, LfStream *in, const LfNode *like,
                           LfRecordInfo *info, GError **error)
{
  return FALSE;
}

#define MISBEHAVING_CLASS(codec_name, describe_fn)                                    \
  {                                                                                   \
    .struct_size = sizeof (LfCodecClass), .name = codec_name,                         \
    .description = "describes its records wrongly", .serialise = raw_class_serialise, \
    .deserialise = raw_class_deserialise, .describe = describe_fn,                    \
  }

/* A describe step that moves the stream, says nothing, or fails without an
 * error is the plugin's fault: the load fails naming the codec and what it
 * did, and nothing is decoded. */
START_TEST (test_misbehaving_describe_refused)
{
  static const LfCodecClass classes[] = {
    MISBEHAVING_CLASS ("describe-consumes", describe_consuming),
    MISBEHAVING_CLASS ("describe-says-nothing", describe_saying_nothing),
    MISBEHAVING_CLASS ("describe-fails-silently", describe_failing_silently),
  };
  static const char *const needles[] = {
    "codec 'describe-consumes': describe moved the stream (it may only peek)",
    "codec 'describe-says-nothing': describe did not say what the record holds",
    "codec 'describe-fails-silently': describe failed without saying why",
  };
  LfRegistry *registry = lf_registry_get_default ();
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_node_ref (leaf));
  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      GError *error = NULL;
      if (lf_registry_lookup (registry, classes[i].name) == NULL)
        ck_assert (lf_registry_register (registry, &classes[i], &error));
      LF_ASSERT_NO_ERROR (error);
      g_autoptr (LfSpec) spec = lf_test_spec (classes[i].name);
      g_autoptr (LfStream) out = lf_stream_new_memory ();
      ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error));
      ck_assert (lf_stream_flush (out, &error));
      g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
      g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
      g_autoptr (LfNode) like = lf_list_new_take (1, abstract (LF_DTYPE_FLOAT32, 2, 3));
      g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL,
                                                                          NULL, &error);
      ck_assert_msg (loaded == NULL, "%s: loaded", classes[i].name);
      LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_INVALID, needles[i]);
    }
}
END_TEST

/* A compressed record of a float32 array of 2^30 elements (4 GiB) in
 * 131 kB: the npy header in a raw block, then RLE blocks of zeros, as a
 * zip bomb would be made. */
static GBytes *
compressed_bomb (guint64 *raw_size_out)
{
  gsize n = (gsize) 1 << 30;
  char header[LF_NPY_HEADER_MAX];
  gsize header_len = lf_npy_header_format (header, sizeof header, LF_DTYPE_FLOAT32, 1, &n,
                                           0, 0);
  guint64 data_size = (guint64) n * 4, raw_size = header_len + data_size;
  const guint32 block = 128 * 1024;
  GByteArray *frame = g_byte_array_new ();
  static const guint8 frame_head[] = { 0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x38 };
  g_byte_array_append (frame, frame_head, sizeof frame_head);
  guint64 fcs = GUINT64_TO_LE (raw_size);
  g_byte_array_append (frame, (const guint8 *) &fcs, 8);
  guint32 raw_block = (guint32) header_len << 3;           /* raw, not last */
  guint8 b3[4] = { raw_block & 0xff, (raw_block >> 8) & 0xff, (raw_block >> 16) & 0xff, 0 };
  g_byte_array_append (frame, b3, 3);
  g_byte_array_append (frame, (const guint8 *) header, (guint) header_len);
  for (guint64 done = 0; done < data_size; done += block)
    {
      guint32 h = block << 3 | 1u << 1 | (done + block >= data_size ? 1u : 0u);  /* RLE */
      guint8 rle[4] = { h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, 0 };
      g_byte_array_append (frame, rle, 4);
    }

  GByteArray *record = g_byte_array_new ();
  guint8 head[40] = "\x93LFZSTD\x01";
  guint32 ref_len = GUINT32_TO_LE (3);
  guint64 raw_le = GUINT64_TO_LE (raw_size), frame_le = GUINT64_TO_LE (frame->len);
  memcpy (head + 8, &ref_len, 4);
  memcpy (head + 16, &raw_le, 8);
  memcpy (head + 24, &frame_le, 8);
  g_byte_array_append (record, head, sizeof head);
  g_byte_array_append (record, (const guint8 *) "npy", 3);
  g_byte_array_append (record, frame->data, frame->len);
  g_byte_array_unref (frame);
  *raw_size_out = raw_size;
  return g_byte_array_free_to_bytes (record);
}

typedef struct {
  const char *reference;
  GBytes *bytes;       /* NULL: from a pipe fed by `pipe_head` then zeros */
  GBytes *pipe_head;
  LfNode *like;
} Attempt;

/* Feeds a header, then up to 256 MiB of zeros, as /dev/zero would. */
static gpointer
endless_feed (gpointer user_data)
{
  PipeFeed *p = user_data;
  static const guint8 zeros[65536];
  gssize n = write (p->fd, p->data, p->size);
  for (guint i = 0; n > 0 && i < 4096; i++)
    n = write (p->fd, zeros, sizeof zeros);
  close (p->fd);
  return NULL;
}

/* In the child: the load, its error and the growth of the peak RSS. */
static void
attempt_load (const Attempt *a, int report_fd)
{
  struct rusage before, after;
  getrusage (RUSAGE_SELF, &before);
  GError *error = NULL;
  LfSpec *spec = lf_spec_new_for_reference (NULL, a->reference, &error);
  LfNode *like = lf_list_new_take (1, lf_node_ref (a->like));
  LfStream *in;
  GThread *writer = NULL;
  int fds[2] = { -1, -1 };
  PipeFeed feed;
  if (a->bytes != NULL)
    in = lf_stream_new_for_bytes (a->bytes);
  else
    {
      signal (SIGPIPE, SIG_IGN);
      if (pipe (fds) != 0)
        _exit (3);
      feed = (PipeFeed) { fds[1], g_bytes_get_data (a->pipe_head, NULL),
                          g_bytes_get_size (a->pipe_head) };
      writer = g_thread_new ("endless", endless_feed, &feed);
      in = lf_stream_new_for_fd (fds[0], TRUE);
    }
  LfNode *loaded = spec == NULL ? NULL
                   : lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL, NULL,
                                                             &error);
  lf_stream_free (in);   /* closes the pipe: the writer stops */
  if (writer != NULL)
    g_thread_join (writer);
  getrusage (RUSAGE_SELF, &after);
  g_autofree char *report = g_strdup_printf (
      "%d %ld %s", error != NULL ? error->code : -1, after.ru_maxrss - before.ru_maxrss,
      loaded != NULL ? "loaded" : error != NULL ? error->message : "");
  if (write (report_fd, report, strlen (report)) < 0)
    _exit (4);
  g_clear_error (&error);
  lf_node_unref (loaded);
  lf_node_unref (like);
  lf_spec_unref (spec);
}

/* Runs the load in a child process, whose peak RSS is its own, and
 * expects LF_ERROR_MISMATCH with `needle` and less than 64 MB of growth. */
static void
assert_refused_in_small_memory (const Attempt *a, const char *needle)
{
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  pid_t pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      close (fds[0]);
      attempt_load (a, fds[1]);
      close (fds[1]);
      /* No exit handler may run in this copy of a threaded process: a leak
       * checker (valgrind) would count the other threads' memory as lost
       * and change the exit status.  The report is written. */
      kill (getpid (), SIGKILL);
      _exit (0);
    }
  close (fds[1]);
  char report[4096] = { 0 };
  gsize got = 0;
  gssize n;
  while (got < sizeof report - 1 && (n = read (fds[0], report + got, sizeof report - 1 - got)) > 0)
    got += (gsize) n;
  close (fds[0]);
  int status;
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert_msg (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "child: status %d",
                 status);
  int code = -1;
  long grown_kib = -1;
  int message_at = 0;
  ck_assert_int_eq (sscanf (report, "%d %ld %n", &code, &grown_kib, &message_at), 2);
  const char *message = report + message_at;
  ck_assert_msg (grown_kib < 64 * 1024, "peak RSS grew by %ld KiB (%s)", grown_kib, message);
  ck_assert_msg (code == LF_ERROR_MISMATCH, "expected a mismatch, got %d: %s", code, message);
  ck_assert_msg (strstr (message, needle) != NULL, "\"%s\" lacks \"%s\"", message, needle);
}

START_TEST (test_compressed_bomb_refused_in_small_memory)
{
  guint64 raw_size;
  g_autoptr (GBytes) bomb = compressed_bomb (&raw_size);
  ck_assert_uint_lt (g_bytes_get_size (bomb), 140 * 1000);

  /* It is a valid record: described (without a like) as what it holds, and
   * its frame decompresses, as far as anyone cares to go. */
  GError *error = NULL;
  g_autoptr (LfCodec) codec = codec_for ("compressed");
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bomb);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  ck_assert (lf_codec_describe (codec, in, NULL, info, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_record_info_get_decoded_size (info), (guint64) 4 << 30);
  ck_assert_uint_eq (lf_record_info_get_stored_size (info), g_bytes_get_size (bomb));
  ck_assert (!lf_record_info_check_like (info, NULL, 64 << 20, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TOO_LARGE, "4294967296");
  ZSTD_DCtx *dctx = ZSTD_createDCtx ();
  const guint8 *frame = (const guint8 *) g_bytes_get_data (bomb, NULL) + 43;
  ZSTD_inBuffer input = { frame, g_bytes_get_size (bomb) - 43, 0 };
  static guint8 out[1 << 20];
  for (int i = 0; i < 8; i++)
    {
      ZSTD_outBuffer output = { out, sizeof out, 0 };
      ck_assert (!ZSTD_isError (ZSTD_decompressStream (dctx, &output, &input)));
      ck_assert_uint_eq (output.pos, sizeof out);
    }
  ZSTD_freeDCtx (dctx);

  /* Loaded for a float32 array of 4 elements: refused from the header. */
  float four[4] = { 0 };
  gsize n = 4;
  g_autoptr (LfNode) like = lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &n, four);
  Attempt a = { "compressed", bomb, NULL, like };
  assert_refused_in_small_memory (&a, "expected float32 array of shape (4,), found float32 "
                                  "array of shape (1073741824,)");
}
END_TEST

/* cast and compressed around an npy header declaring 2^62 elements on a
 * pipe that never ends: refused before a byte of data is read. */
START_TEST (test_endless_pipe_refused_in_small_memory)
{
  gsize n = (gsize) 1 << 62;
  char header[LF_NPY_HEADER_MAX];
  gsize header_len = lf_npy_header_format (header, sizeof header, LF_DTYPE_INT8, 1, &n, 0, 0);
  g_autoptr (GBytes) head = g_bytes_new (header, header_len);
  g_autoptr (LfNode) like = abstract (LF_DTYPE_FLOAT64, 4, 0);
  Attempt a = { "cast", NULL, head, like };
  assert_refused_in_small_memory (&a, "found float64 array of shape (4611686018427387904,)");
  a.reference = "npy";
  assert_refused_in_small_memory (&a, "found int8 array of shape (4611686018427387904,)");
}
END_TEST

/* ---- broken records ----------------------------------------------------------- */

static void
assert_describe_fails (const char *reference, const guint8 *data, gsize size, LfError code,
                       const char *needle)
{
  GError *error = NULL;
  g_autoptr (LfCodec) codec = codec_for (reference);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  /* From memory, and from callbacks, which cannot tell what is left. */
  g_autoptr (LfStream) in = lf_stream_new_for_data (data, size);
  lf_stream_set_name (in, "broken.eqx");
  ck_assert (!lf_codec_describe (codec, in, NULL, info, &error));
  ck_assert_msg (error->code == (int) code, "%s: %s", reference, error->message);
  ck_assert_uint_eq (lf_stream_tell (in), 0);
  LF_ASSERT_ERROR (error, code, needle);
  Feed feed = { data, size, 0 };
  g_autoptr (LfStream) cb = lf_stream_new_for_callbacks (feed_read, NULL, &feed, NULL);
  ck_assert (!lf_codec_describe (codec, cb, NULL, info, &error));
  LF_ASSERT_ERROR (error, code, NULL);
}

static GByteArray *
record_array (const char *reference)
{
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (GBytes) bytes = record_of (reference, leaf);
  GByteArray *array = g_byte_array_new ();
  g_byte_array_append (array, g_bytes_get_data (bytes, NULL), (guint) g_bytes_get_size (bytes));
  return array;
}

START_TEST (test_describe_truncated_or_corrupt)
{
  ensure_int8_affine ();
  static const char *const npy_based[] = { "npy", "float16", "cast", "skip-arrays" };
  for (gsize i = 0; i < G_N_ELEMENTS (npy_based); i++)
    {
      g_autoptr (GByteArray) r = record_array (strcmp (npy_based[i], "skip-arrays") == 0
                                               ? "npy" : npy_based[i]);
      assert_describe_fails (npy_based[i], r->data, 50, LF_ERROR_TRUNCATED, "expected");
      assert_describe_fails (npy_based[i], r->data, 3, LF_ERROR_TRUNCATED, "npy");
      r->data[1] = 'X';
      assert_describe_fails (npy_based[i], r->data, r->len, LF_ERROR_CORRUPT, "magic");
    }

  g_autoptr (GByteArray) c = record_array ("compressed");
  assert_describe_fails ("compressed", c->data, 20, LF_ERROR_TRUNCATED,
                         "compressed record header");
  assert_describe_fails ("compressed", c->data, 41, LF_ERROR_TRUNCATED, "compressed record");
  assert_describe_fails ("compressed", c->data, c->len - 1, LF_ERROR_TRUNCATED,
                         "compressed record: expected 3 + ");
  c->data[1] = 'X';
  assert_describe_fails ("compressed", c->data, c->len, LF_ERROR_CORRUPT,
                         "not a compressed record");
  c->data[1] = 'L';
  c->data[40] = 'z';
  assert_describe_fails ("compressed", c->data, c->len, LF_ERROR_UNKNOWN_CODEC,
                         "compressed record: inner codec \"zpy\"");
  c->data[40] = 'n';
  /* The inner record's header is the inner codec's to judge. */
  g_autoptr (GBytes) inner_junk = g_bytes_new_static ("not an npy record at all, no", 28);
  gsize bound = ZSTD_compressBound (28);
  g_autofree guint8 *frame = g_malloc (bound);
  gsize frame_size = ZSTD_compress (frame, bound, g_bytes_get_data (inner_junk, NULL), 28, 3);
  g_autoptr (GByteArray) j = g_byte_array_new ();
  g_byte_array_append (j, c->data, 43);
  g_byte_array_append (j, frame, (guint) frame_size);
  guint64 raw_le = GUINT64_TO_LE (28), frame_le = GUINT64_TO_LE (frame_size);
  memcpy (j->data + 16, &raw_le, 8);
  memcpy (j->data + 24, &frame_le, 8);
  assert_describe_fails ("compressed", j->data, j->len, LF_ERROR_CORRUPT,
                         "compressed record (inner npy): ");
  /* A frame cut short, the record's sizes agreeing with the cut. */
  g_autoptr (GByteArray) cut = record_array ("compressed");
  guint64 cut_le = GUINT64_TO_LE ((guint64) cut->len - 43 - 6);
  memcpy (cut->data + 24, &cut_le, 8);
  assert_describe_fails ("compressed", cut->data, cut->len - 6, LF_ERROR_TRUNCATED,
                         "the zstd frame ends early");

  g_autoptr (GByteArray) q = record_array ("int8-affine");
  assert_describe_fails ("int8-affine", q->data, 144, LF_ERROR_TRUNCATED, "expected");
  assert_describe_fails ("int8-affine", q->data, 200, LF_ERROR_TRUNCATED, "expected");
  q->data[144 + 1] = 'X';
  assert_describe_fails ("int8-affine", q->data, q->len, LF_ERROR_CORRUPT,
                         "int8-affine: the values record at byte 144: not an npy record");
  q->data[144 + 1] = 'N';
  g_autoptr (GByteArray) p = record_array ("npy");
  assert_describe_fails ("int8-affine", p->data, p->len, LF_ERROR_CORRUPT,
                         "int8-affine: expected a float64 [scale, zero_point] record");
}
END_TEST

/* A zstd window above the 32 MiB cap: describe and load refuse it with the
 * same code and the same words. */
START_TEST (test_window_cap_same_in_describe_and_load)
{
  GError *error = NULL;
  g_autoptr (LfNode) leaf = f32_array_2x3 ();
  g_autoptr (GBytes) inner = record_of ("npy", leaf);
  ZSTD_CCtx *cctx = ZSTD_createCCtx ();
  ZSTD_CCtx_setParameter (cctx, ZSTD_c_windowLog, 27);
  ZSTD_CCtx_setParameter (cctx, ZSTD_c_contentSizeFlag, 0);
  guint8 frame[1024];
  ZSTD_inBuffer in = { g_bytes_get_data (inner, NULL), g_bytes_get_size (inner), 0 };
  ZSTD_outBuffer out = { frame, sizeof frame, 0 };
  ck_assert (!ZSTD_isError (ZSTD_compressStream2 (cctx, &out, &in, ZSTD_e_continue)));
  ZSTD_inBuffer none = { NULL, 0, 0 };
  ck_assert_uint_eq (ZSTD_compressStream2 (cctx, &out, &none, ZSTD_e_end), 0);
  ZSTD_freeCCtx (cctx);

  g_autoptr (GByteArray) r = record_array ("compressed");
  g_byte_array_set_size (r, 43);
  g_byte_array_append (r, frame, (guint) out.pos);
  guint64 frame_le = GUINT64_TO_LE (out.pos);
  memcpy (r->data + 24, &frame_le, 8);

  g_autoptr (LfCodec) codec = codec_for ("compressed");
  g_autoptr (LfStream) s = lf_stream_new_for_data (r->data, r->len);
  g_autoptr (LfRecordInfo) info = lf_record_info_new ();
  ck_assert (!lf_codec_describe (codec, s, NULL, info, &error));
  g_autofree char *described = g_strdup (error->message);
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "needs a window above 32 MiB");
  g_autoptr (LfNode) loaded = lf_codec_deserialise (codec, s, NULL, NULL, &error);
  ck_assert_ptr_null (loaded);
  ck_assert_str_eq (error->message, described);
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, NULL);
}
END_TEST

/* ---- capabilities ------------------------------------------------------------- */

static void
assert_capabilities (const char *reference, guint32 set, guint32 unset, guint32 alignment,
                     const char *inner)
{
  g_autoptr (LfCodec) codec = codec_for (reference);
  LfCodecCapabilities caps;
  lf_codec_get_capabilities (codec, &caps);
  ck_assert_msg ((caps.flags & set) == set, "%s: flags 0x%x lack 0x%x", reference, caps.flags,
                 set);
  ck_assert_msg ((caps.flags & unset) == 0, "%s: flags 0x%x have some of 0x%x", reference,
                 caps.flags, unset);
  ck_assert_uint_eq (caps.data_alignment, alignment);
  if (inner == NULL)
    ck_assert_ptr_null (caps.inner);
  else
    {
      ck_assert_ptr_nonnull (caps.inner);
      g_autofree char *text = lf_codec_to_string (caps.inner);
      ck_assert_str_eq (text, inner);
    }
  ck_assert (lf_codec_has_flags (codec, set));
  ck_assert (lf_codec_can_describe (codec));
}

START_TEST (test_capabilities)
{
  const guint32 rows = LF_CODEC_ROW_RANGES, elementwise = LF_CODEC_ELEMENTWISE,
                raw = LF_CODEC_RAW_DATA, offset = LF_CODEC_OFFSET_DEPENDENT,
                pool = LF_CODEC_PARALLEL_SMALL_LEAVES;
  assert_capabilities ("npy", rows | elementwise | raw, offset, 0, NULL);
  /* float16 splits by rows as npy does (what collective MPI saves use). */
  assert_capabilities ("float16", rows | elementwise, raw | offset, 0, "npy");
  assert_capabilities ("float16(inner=npy(align=64))", rows | elementwise | offset, raw, 64,
                       "npy(align=64)");
  assert_capabilities ("float16(inner=compressed)", pool, rows | elementwise | raw, 0,
                       "compressed");
  assert_capabilities ("cast", rows | elementwise, raw | offset, 0, "npy");
  assert_capabilities ("cast(inner=float16(inner=npy(align=128)))", rows | offset, raw, 128,
                       "float16(inner=npy(align=128))");
  assert_capabilities ("compressed", pool, rows | elementwise | raw | offset, 0, "npy");
  assert_capabilities ("skip-arrays", 0, rows | raw | offset, 0, "npy");
  /* The example plugin's scale is the whole array's: no row blocks. */
  assert_capabilities ("int8-affine", pool, rows | elementwise | raw | offset, 0, NULL);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("describe");
  TCase *tc = tcase_create ("describe");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_describe_npy);
  tcase_add_test (tc, test_describe_skip_arrays);
  tcase_add_test (tc, test_describe_float16);
  tcase_add_test (tc, test_describe_cast);
  tcase_add_test (tc, test_describe_compressed);
  tcase_add_test (tc, test_describe_compressed_big);
  tcase_add_test (tc, test_compressed_load_after_describe_decompresses_once);
  tcase_add_test (tc, test_describe_int8_affine);
  tcase_add_test (tc, test_describe_truncated_or_corrupt);
  tcase_add_test (tc, test_window_cap_same_in_describe_and_load);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("before decoding");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_wrong_like_refused_before_decoding);
  tcase_add_test (tc, test_compressed_bomb_refused_in_small_memory);
  tcase_add_test (tc, test_endless_pipe_refused_in_small_memory);
  suite_add_tcase (suite, tc);

  tc = tcase_create ("capabilities");
  tcase_add_test (tc, test_capabilities);
  tcase_add_test (tc, test_wrapper_around_codec_without_describe);
  tcase_add_test (tc, test_measure_record);
  tcase_add_test (tc, test_misbehaving_describe_refused);
  tcase_add_test (tc, test_describe_compressed_big_first_block);
  suite_add_tcase (suite, tc);
  return suite;
}
