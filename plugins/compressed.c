/* compressed: an inner codec's record, compressed with zstd.
 *
 * The record's layout is in compressed-format.h (and docs/FORMAT.md, with a
 * Python reader).
 *
 * The reference makes each record self-describing: a file loads whatever
 * `inner=` the loading spec says.  Reading checks the sizes against what
 * the stream holds before allocating, decompresses into a buffer that
 * grows with the real output (never to a declared size it has not seen),
 * and checks the length and the checksum before the inner codec sees a
 * byte.
 *
 * Array leaves from 2 MiB up are streamed: the inner record is hashed and
 * fed to zstd's worker threads (`threads=` of them, jobs of 2 MiB) as the
 * inner codec writes it, and the frame goes to the output as it comes; the
 * header is filled in last (lf_stream_rewrite), or, on outputs that cannot
 * be rewritten, the frame alone is buffered.  Smaller leaves are
 * compressed in one call in the calling thread.  The choice depends only
 * on the leaf's size, and zstd's threaded output does not depend on the
 * number of workers, so every `threads=` value and every output gets the
 * same bytes.
 *
 * Options: level= (zstd level, default 3), inner= (default npy),
 * threads= (0: one per CPU, the default). */
#include "config.h"

#include <string.h>

#include <xxhash.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <leafio/leafio.h>

#include "compressed-format.h"

#define THREADED_MIN_SIZE (2u << 20)
#define THREADED_JOB_SIZE (2u << 20)

typedef struct {
  LfCodec *inner;
  char *inner_reference;    /* lf_codec_to_string (inner), written in each record */
  int level;
  int threads;
} CompressedOptions;

/* ---- options ---------------------------------------------------------------- */

static gpointer
compressed_parse_options (LfCodecOptions *options, GError **error)
{
  gint64 level, threads;

  if (!lf_codec_options_get_int (options, "level", MAX (ZSTD_minCLevel (), -131072),
                                 ZSTD_maxCLevel (), 3, &level, error))
    return NULL;
  if (!lf_codec_options_get_int (options, "threads", 0, 256, 0, &threads, error))
    return NULL;
  LfCodec *inner = lf_codec_options_get_codec (options, "inner", "npy", error);
  if (inner == NULL)
    return NULL;

  CompressedOptions *o = g_new0 (CompressedOptions, 1);
  o->inner = inner;
  o->inner_reference = lf_codec_to_string (inner);
  o->level = (int) level;
  o->threads = threads > 0 ? (int) threads : (int) MAX (g_get_num_processors (), 1);
  return o;
}

static void
compressed_free_options (gpointer data)
{
  CompressedOptions *o = data;

  lf_codec_unref (o->inner);
  g_free (o->inner_reference);
  g_free (o);
}

static gboolean
compressed_handles (const LfCodec *codec, const LfNode *leaf)
{
  const CompressedOptions *o = lf_codec_get_data (codec);

  return lf_codec_handles (o->inner, leaf);
}

/* ---- zstd contexts, one of each per thread ---------------------------------- */

static void
free_cctx (gpointer cctx)
{
  ZSTD_freeCCtx (cctx);
}

static void
free_dctx (gpointer dctx)
{
  ZSTD_freeDCtx (dctx);
}

static GPrivate cctx_key = G_PRIVATE_INIT (free_cctx);
static GPrivate dctx_key = G_PRIVATE_INIT (free_dctx);

/* This thread's compression context, reset to default parameters. */
static ZSTD_CCtx *
get_cctx (GError **error)
{
  ZSTD_CCtx *cctx = g_private_get (&cctx_key);

  if (cctx == NULL)
    {
      cctx = ZSTD_createCCtx ();
      g_private_set (&cctx_key, cctx);
    }
  if (cctx == NULL)
    g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "zstd: cannot create a context");
  else
    ZSTD_CCtx_reset (cctx, ZSTD_reset_session_and_parameters);
  return cctx;
}

static ZSTD_DCtx *
get_dctx (void)
{
  ZSTD_DCtx *dctx = g_private_get (&dctx_key);

  if (dctx == NULL)
    {
      dctx = ZSTD_createDCtx ();
      g_private_set (&dctx_key, dctx);
    }
  return dctx;
}

static gboolean
zstd_failed (size_t code, const char *what, GError **error)
{
  if (!ZSTD_isError (code))
    return FALSE;
  g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "zstd %s: %s", what,
               ZSTD_getErrorName (code));
  return TRUE;
}

static void
fill_header (guint8 *header, const CompressedOptions *o, guint64 raw_size,
             guint64 compressed_size, guint64 checksum)
{
  memcpy (header, LF_ZSTD_RECORD_MAGIC, LF_ZSTD_RECORD_MAGIC_LEN);
  header[LF_ZSTD_AT_VERSION] = LF_ZSTD_RECORD_VERSION;
  lf_zstd_put_u32 (header + LF_ZSTD_AT_REFERENCE_LEN,
                   (guint32) strlen (o->inner_reference));
  lf_zstd_put_u32 (header + LF_ZSTD_AT_FLAGS, 0);
  lf_zstd_put_u64 (header + LF_ZSTD_AT_RAW_SIZE, raw_size);
  lf_zstd_put_u64 (header + LF_ZSTD_AT_COMPRESSED_SIZE, compressed_size);
  lf_zstd_put_u64 (header + LF_ZSTD_AT_CHECKSUM, checksum);
}

/* The record's header and the inner codec reference, before the frame. */
static gboolean
write_head (LfStream *out, const guint8 *header, const CompressedOptions *o, GError **error)
{
  return lf_stream_write (out, header, LF_ZSTD_RECORD_HEADER_SIZE, error)
         && lf_stream_write (out, o->inner_reference, strlen (o->inner_reference), error);
}

/* This thread's compression context at `level`.  zstd's levels 21 and 22
 * use windows above LF_ZSTD_MAX_WINDOW_LOG when the input's size is unknown (the
 * streamed path); those are capped.  With a known size, as on the small
 * path, the window never exceeds the input. */
static ZSTD_CCtx *
cctx_for_level (int level, gboolean streamed, GError **error)
{
  ZSTD_CCtx *cctx = get_cctx (error);
  if (cctx == NULL
      || zstd_failed (ZSTD_CCtx_setParameter (cctx, ZSTD_c_compressionLevel, level), "level",
                      error))
    return NULL;
  if (streamed && level > 20
      && zstd_failed (ZSTD_CCtx_setParameter (cctx, ZSTD_c_windowLog,
                                              LF_ZSTD_MAX_WINDOW_LOG), "window", error))
    return NULL;
  return cctx;
}

/* ---- saving: small leaves, in one piece --------------------------------------- */

/* The inner record is built in memory and compressed in one call, in the
 * calling thread, so the frame records its content size. */
static gboolean
save_small (const CompressedOptions *o, LfStream *out, const LfPath *path, LfNode *leaf,
            GError **error)
{
  g_autoptr (LfStream) memory = lf_stream_new_memory ();
  if (!lf_codec_serialise (o->inner, memory, path, leaf, error)
      || !lf_stream_flush (memory, error))
    return FALSE;
  g_autoptr (GBytes) raw = lf_stream_steal_bytes (memory);
  gsize raw_size;
  const guint8 *raw_data = g_bytes_get_data (raw, &raw_size);

  ZSTD_CCtx *cctx = cctx_for_level (o->level, FALSE, error);
  if (cctx == NULL)
    return FALSE;
  gsize bound = ZSTD_compressBound (raw_size);
  g_autofree guint8 *compressed = g_malloc (bound);
  size_t compressed_size = ZSTD_compress2 (cctx, compressed, bound, raw_data, raw_size);
  if (zstd_failed (compressed_size, "compression", error))
    return FALSE;

  guint8 header[LF_ZSTD_RECORD_HEADER_SIZE];
  fill_header (header, o, raw_size, compressed_size, XXH3_64bits (raw_data, raw_size));
  return write_head (out, header, o, error)
         && lf_stream_write (out, compressed, compressed_size, error);
}

/* ---- saving: big leaves, streamed -------------------------------------------- */

/* The inner codec writes into a stream whose bytes are hashed and fed to
 * zstd's workers as they come; compressed bytes go to `sink` as zstd
 * produces them.  Neither the inner record nor the frame is ever whole in
 * memory when the output can be rewritten (the header is filled in last). */
typedef struct {
  ZSTD_CCtx *cctx;
  XXH3_state_t *hash;
  guint64 raw_size, compressed_size;
  LfStream *sink;
  guint8 *chunk;
} Streaming;

#define STREAMING_CHUNK_SIZE ((gsize) 1 << 20)

/* Compresses `data` (or finishes the frame, with ZSTD_e_end) and writes
 * what zstd hands back. */
static gboolean
streaming_push (Streaming *s, const void *data, gsize count, ZSTD_EndDirective directive,
                GError **error)
{
  ZSTD_inBuffer input = { data, count, 0 };
  for (;;)
    {
      ZSTD_outBuffer output = { s->chunk, STREAMING_CHUNK_SIZE, 0 };
      size_t left = ZSTD_compressStream2 (s->cctx, &output, &input, directive);
      if (zstd_failed (left, "compression", error))
        return FALSE;
      if (output.pos > 0 && !lf_stream_write (s->sink, s->chunk, output.pos, error))
        return FALSE;
      s->compressed_size += output.pos;
      if (directive == ZSTD_e_end ? left == 0 : input.pos == input.size)
        return TRUE;
    }
}

static gboolean
streaming_write (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  Streaming *s = user_data;
  XXH3_64bits_update (s->hash, buffer, count);
  s->raw_size += count;
  return streaming_push (s, buffer, count, ZSTD_e_continue, error);
}

static gboolean
save_big (const CompressedOptions *o, LfStream *out, const LfPath *path, LfNode *leaf,
          GError **error)
{
  ZSTD_CCtx *cctx = cctx_for_level (o->level, TRUE, error);
  if (cctx == NULL)
    return FALSE;
  /* Fails (harmlessly, single-threaded) only in a zstd built without
   * threads; then every big leaf takes that path and output stays uniform. */
  if (!ZSTD_isError (ZSTD_CCtx_setParameter (cctx, ZSTD_c_nbWorkers, o->threads)))
    ZSTD_CCtx_setParameter (cctx, ZSTD_c_jobSize, THREADED_JOB_SIZE);

  gboolean direct = lf_stream_can_rewrite (out);
  guint64 header_position = lf_stream_tell (out);
  g_autoptr (LfStream) buffered = direct ? NULL : lf_stream_new_memory ();
  guint8 header[LF_ZSTD_RECORD_HEADER_SIZE] = { 0 };
  if (direct && !write_head (out, header, o, error))   /* filled in at the end */
    return FALSE;

  XXH3_state_t *hash = XXH3_createState ();
  if (hash == NULL || XXH3_64bits_reset (hash) != XXH_OK)
    {
      XXH3_freeState (hash);
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "xxhash: cannot create a state");
      return FALSE;
    }
  g_autofree guint8 *chunk = g_malloc (STREAMING_CHUNK_SIZE);
  Streaming s = { .cctx = cctx, .hash = hash, .sink = direct ? out : buffered, .chunk = chunk };
  g_autoptr (LfStream) inner = lf_stream_new_for_callbacks (NULL, streaming_write, &s, NULL);
  lf_stream_set_name (inner, "compressed record");
  gboolean ok = lf_codec_serialise (o->inner, inner, path, leaf, error)
                && lf_stream_flush (inner, error)
                && streaming_push (&s, NULL, 0, ZSTD_e_end, error);
  guint64 checksum = XXH3_64bits_digest (hash);
  XXH3_freeState (hash);
  if (!ok)
    return FALSE;

  fill_header (header, o, s.raw_size, s.compressed_size, checksum);
  if (direct)
    return lf_stream_rewrite (out, header_position, header, sizeof header, error);
  g_autoptr (GBytes) frame = lf_stream_steal_bytes (buffered);
  return write_head (out, header, o, error)
         && lf_stream_write (out, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                             error);
}

static gboolean
compressed_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                      GError **error)
{
  const CompressedOptions *o = lf_codec_get_data (codec);
  gboolean big = lf_node_get_kind (leaf) == LF_NODE_ARRAY
                 && lf_array_get_n_bytes (leaf) >= THREADED_MIN_SIZE;

  return big ? save_big (o, out, path, leaf, error) : save_small (o, out, path, leaf, error);
}

/* ---- loading ------------------------------------------------------------------- */

/* Decompresses one frame into a buffer that grows with the output, capped
 * at `raw_size`: a lying size cannot make it allocate what the frame does
 * not hold. */
static GBytes *
decompress_record (const guint8 *src, gsize src_size, guint64 raw_size, GError **error)
{
  ZSTD_DCtx *dctx = get_dctx ();
  if (dctx == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "zstd: cannot create a context");
      return NULL;
    }
  ZSTD_DCtx_reset (dctx, ZSTD_reset_session_and_parameters);
  ZSTD_DCtx_setParameter (dctx, ZSTD_d_windowLogMax, LF_ZSTD_MAX_WINDOW_LOG);

  unsigned long long declared = ZSTD_getFrameContentSize (src, src_size);
  if (declared == ZSTD_CONTENTSIZE_ERROR || (declared != ZSTD_CONTENTSIZE_UNKNOWN
                                             && declared != raw_size))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "the zstd frame is malformed or does not hold the %" G_GUINT64_FORMAT
                   " bytes the record declares", raw_size);
      return NULL;
    }

  gsize capacity = (gsize) MIN (raw_size, MAX ((guint64) src_size * 4, 1u << 16));
  guint8 *buffer = g_malloc (MAX (capacity, 1));
  ZSTD_inBuffer input = { src, src_size, 0 };
  ZSTD_outBuffer output = { buffer, capacity, 0 };
  size_t status;

  for (;;)
    {
      status = ZSTD_decompressStream (dctx, &output, &input);
      if (ZSTD_isError (status))
        {
          g_free (output.dst);
          if (ZSTD_getErrorCode (status) == ZSTD_error_frameParameter_windowTooLarge)
            g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                         "the zstd frame needs a window above %u MiB, the most this "
                         "reader allows", (1u << LF_ZSTD_MAX_WINDOW_LOG) >> 20);
          else
            g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "the zstd frame is corrupt: %s",
                         ZSTD_getErrorName (status));
          return NULL;
        }
      if (status == 0)
        break;                                    /* frame complete */
      if (output.pos < output.size)
        {
          if (input.pos == input.size)
            {
              g_free (output.dst);
              g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                           "the zstd frame ends early (%" G_GSIZE_FORMAT " bytes)", src_size);
              return NULL;
            }
          continue;
        }
      if (output.size >= raw_size)
        {
          /* Full at the declared size, and the frame wants to go on. */
          guint8 probe;
          ZSTD_outBuffer extra = { &probe, 1, 0 };
          status = ZSTD_decompressStream (dctx, &extra, &input);
          if (!ZSTD_isError (status) && extra.pos == 0 && status == 0)
            break;
          g_free (output.dst);
          g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                       "the zstd frame holds more than the %" G_GUINT64_FORMAT
                       " bytes the record declares", raw_size);
          return NULL;
        }
      output.size = (gsize) MIN (raw_size, (guint64) output.size * 2);
      output.dst = g_realloc (output.dst, output.size);
    }

  if (output.pos != raw_size || input.pos != input.size)
    {
      g_free (output.dst);
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "the zstd frame holds %" G_GSIZE_FORMAT " bytes in %" G_GSIZE_FORMAT
                   " of %" G_GSIZE_FORMAT " compressed bytes; the record declares %"
                   G_GUINT64_FORMAT " in %" G_GSIZE_FORMAT,
                   output.pos, input.pos, src_size, raw_size, src_size);
      return NULL;
    }
  return g_bytes_new_take (output.dst, output.pos);
}

static LfNode *
compressed_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                        GError **error)
{
  const CompressedOptions *o = lf_codec_get_data (codec);
  guint8 header[LF_ZSTD_RECORD_HEADER_SIZE];

  if (!lf_stream_read (in, header, sizeof header, error))
    {
      g_prefix_error (error, "compressed record header: ");
      return NULL;
    }
  if (memcmp (header, LF_ZSTD_RECORD_MAGIC, LF_ZSTD_RECORD_MAGIC_LEN) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "not a compressed record: the magic is not \\x93LFZSTD "
                   "(was the file written with another codec?)");
      return NULL;
    }
  guint version = header[LF_ZSTD_AT_VERSION];
  guint32 flags = lf_zstd_get_u32 (header + LF_ZSTD_AT_FLAGS);
  if (version != LF_ZSTD_RECORD_VERSION || flags != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "compressed record version %u with flags 0x%x; this reader knows "
                   "version %u with flags 0", version, flags, LF_ZSTD_RECORD_VERSION);
      return NULL;
    }
  guint32 reference_len = lf_zstd_get_u32 (header + LF_ZSTD_AT_REFERENCE_LEN);
  guint64 raw_size = lf_zstd_get_u64 (header + LF_ZSTD_AT_RAW_SIZE);
  guint64 compressed_size = lf_zstd_get_u64 (header + LF_ZSTD_AT_COMPRESSED_SIZE);
  guint64 checksum = lf_zstd_get_u64 (header + LF_ZSTD_AT_CHECKSUM);

  if (reference_len == 0 || reference_len > LF_ZSTD_MAX_REFERENCE_LEN)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: inner codec reference of %u bytes "
                   "(expected 1 to %u)", reference_len, LF_ZSTD_MAX_REFERENCE_LEN);
      return NULL;
    }
  guint64 remaining;
  if (lf_stream_get_remaining (in, &remaining)
      && (guint64) reference_len + compressed_size > remaining)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "compressed record: expected %" G_GUINT64_FORMAT " bytes after the "
                   "header, found %" G_GUINT64_FORMAT,
                   (guint64) reference_len + compressed_size, remaining);
      return NULL;
    }
  if (compressed_size > G_MAXSIZE || raw_size > G_MAXSIZE || compressed_size == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: sizes %" G_GUINT64_FORMAT " (raw) and %"
                   G_GUINT64_FORMAT " (compressed) are impossible", raw_size,
                   compressed_size);
      return NULL;
    }

  char reference[LF_ZSTD_MAX_REFERENCE_LEN + 1];
  if (!lf_stream_read (in, reference, reference_len, error))
    {
      g_prefix_error (error, "compressed record: ");
      return NULL;
    }
  reference[reference_len] = '\0';
  if (strlen (reference) != reference_len || !g_utf8_validate (reference, -1, NULL))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: the inner codec reference is not text");
      return NULL;
    }

  g_autoptr (GBytes) compressed = lf_stream_read_bytes (in, (gsize) compressed_size, error);
  if (compressed == NULL)
    {
      g_prefix_error (error, "compressed record: ");
      return NULL;
    }
  gsize src_size;
  const guint8 *src = g_bytes_get_data (compressed, &src_size);
  g_autoptr (GBytes) raw = decompress_record (src, src_size, raw_size, error);
  if (raw == NULL)
    {
      g_prefix_error (error, "compressed record: ");
      return NULL;
    }
  g_clear_pointer (&compressed, g_bytes_unref);

  gsize size;
  gconstpointer data = g_bytes_get_data (raw, &size);
  guint64 computed = XXH3_64bits (data, size);
  if (computed != checksum)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CHECKSUM,
                   "compressed record: checksum mismatch (stored %016" G_GINT64_MODIFIER
                   "x, computed %016" G_GINT64_MODIFIER "x): the record is corrupt",
                   checksum, computed);
      return NULL;
    }

  /* The inner codec the record names: ours when it matches, else resolved. */
  g_autoptr (LfCodec) resolved = NULL;
  LfCodec *inner = o->inner;
  if (strcmp (reference, o->inner_reference) != 0)
    {
      resolved = lf_registry_resolve (lf_codec_get_registry (codec), reference, error);
      if (resolved == NULL)
        {
          g_prefix_error (error, "compressed record: inner codec \"%s\": ", reference);
          return NULL;
        }
      inner = resolved;
    }

  g_autoptr (LfStream) inner_stream = lf_stream_new_for_bytes (raw);
  g_autofree char *name = g_strdup_printf ("%s (compressed record)", lf_stream_get_name (in));
  lf_stream_set_name (inner_stream, name);
  g_autoptr (LfNode) leaf = lf_codec_deserialise (inner, inner_stream, path, like, error);
  if (leaf == NULL)
    return NULL;

  gboolean at_end;
  if (!lf_stream_at_end (inner_stream, &at_end, error))
    return NULL;
  if (!at_end)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: the inner %s record used %" G_GUINT64_FORMAT
                   " of its %" G_GSIZE_FORMAT " bytes", reference,
                   lf_stream_tell (inner_stream), size);
      return NULL;
    }
  return g_steal_pointer (&leaf);
}

static const LfCodecClass compressed_codec = {
  .struct_size = sizeof (LfCodecClass),
  .name = "compressed",
  .description = "an inner codec's record compressed with zstd, with a checksum",
  .parse_options = compressed_parse_options,
  .free_options = compressed_free_options,
  .handles = compressed_handles,
  .serialise = compressed_serialise,
  .deserialise = compressed_deserialise,
  /* Small leaves on the walker's pool; big ones use zstd's own workers. */
  .flags = LF_CODEC_PARALLEL_SMALL_LEAVES,
};

LF_PLUGIN_DEFINE ("compressed", PACKAGE_VERSION,
                  "compressed: zstd around any codec's records", &compressed_codec)
