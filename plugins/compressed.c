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
/* The frame's first block holds the inner record's first 16 KiB only (any
 * npy header fits): describe then decompresses the inner header from a
 * short prefix of the frame, however large the blocks after it.  zstd
 * decodes whole blocks, and a block of noisy data can be 128 KiB long. */
#define FIRST_BLOCK_SIZE ((gsize) 16 * 1024)

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
  LfCodec *inner = lf_codec_options_get_codec (options, "inner", LF_CODEC_DEFAULT, error);
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

/* A thread's decompression context, and what the last describe left in
 * it.  Describe decompresses the start of a record's frame, which for a
 * small leaf is all of it (the first block holds up to 16 KiB); the load
 * of the same record, which the walker runs next on the same thread, goes
 * on from there instead of decompressing those bytes again.  The state is
 * the record's only if nothing reset the context since (`resets`), and the
 * load takes it only for a record of the same head whose frame starts
 * with the bytes the context has taken. */
typedef struct {
  ZSTD_DCtx *dctx;
  guint resets;
  gboolean kept;
  guint64 raw_size, compressed_size, checksum;
  gboolean frame_done;
  GByteArray *frame;    /* the frame bytes the context has taken */
  GByteArray *out;      /* what it gave */
} Decoder;

static void
free_decoder (gpointer data)
{
  Decoder *decoder = data;
  ZSTD_freeDCtx (decoder->dctx);
  g_byte_array_unref (decoder->frame);
  g_byte_array_unref (decoder->out);
  g_free (decoder);
}

static GPrivate cctx_key = G_PRIVATE_INIT (free_cctx);
static GPrivate decoder_key = G_PRIVATE_INIT (free_decoder);

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

static Decoder *
get_decoder (void)
{
  Decoder *decoder = g_private_get (&decoder_key);

  if (decoder == NULL)
    {
      decoder = g_new0 (Decoder, 1);
      decoder->frame = g_byte_array_new ();
      decoder->out = g_byte_array_new ();
      g_private_set (&decoder_key, decoder);
    }
  if (decoder->dctx == NULL)
    decoder->dctx = ZSTD_createDCtx ();
  return decoder;
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
  lf_le_put_u32 (header + LF_ZSTD_AT_REFERENCE_LEN,
                   (guint32) strlen (o->inner_reference));
  lf_le_put_u32 (header + LF_ZSTD_AT_FLAGS, 0);
  lf_le_put_u64 (header + LF_ZSTD_AT_RAW_SIZE, raw_size);
  lf_le_put_u64 (header + LF_ZSTD_AT_COMPRESSED_SIZE, compressed_size);
  lf_le_put_u64 (header + LF_ZSTD_AT_CHECKSUM, checksum);
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

/* Compresses `src` into one frame that records its content size, the
 * first block ending after FIRST_BLOCK_SIZE bytes. */
static gssize
compress_in_one (ZSTD_CCtx *cctx, guint8 *dst, gsize capacity, const guint8 *src, gsize size,
                 GError **error)
{
  if (size <= FIRST_BLOCK_SIZE)
    {
      size_t written = ZSTD_compress2 (cctx, dst, capacity, src, size);
      return zstd_failed (written, "compression", error) ? -1 : (gssize) written;
    }
  if (zstd_failed (ZSTD_CCtx_setPledgedSrcSize (cctx, size), "size", error))
    return -1;
  ZSTD_outBuffer output = { dst, capacity, 0 };
  ZSTD_inBuffer first = { src, FIRST_BLOCK_SIZE, 0 };
  ZSTD_inBuffer rest = { src + FIRST_BLOCK_SIZE, size - FIRST_BLOCK_SIZE, 0 };
  size_t left;
  do
    left = ZSTD_compressStream2 (cctx, &output, &first, ZSTD_e_flush);
  while (!ZSTD_isError (left) && left > 0 && output.pos < output.size);
  while (!ZSTD_isError (left) && output.pos < output.size
         && (left = ZSTD_compressStream2 (cctx, &output, &rest, ZSTD_e_end)) > 0)
    ;
  if (zstd_failed (left, "compression", error))
    return -1;
  if (left > 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "zstd compression: output over its bound");
      return -1;
    }
  return (gssize) output.pos;
}

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
  /* Room for the block a flush ends early, too. */
  gsize bound = ZSTD_compressBound (raw_size) + 64;
  g_autofree guint8 *compressed = g_malloc (bound);
  gssize compressed_size = compress_in_one (cctx, compressed, bound, raw_data, raw_size, error);
  if (compressed_size < 0)
    return FALSE;

  guint8 header[LF_ZSTD_RECORD_HEADER_SIZE];
  fill_header (header, o, raw_size, compressed_size, XXH3_64bits (raw_data, raw_size));
  return write_head (out, header, o, error)
         && lf_stream_write (out, compressed, (gsize) compressed_size, error);
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
      if (directive == ZSTD_e_continue ? input.pos == input.size : left == 0)
        return TRUE;
    }
}

static gboolean
streaming_write (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  Streaming *s = user_data;
  const guint8 *bytes = buffer;
  XXH3_64bits_update (s->hash, buffer, count);
  if (s->raw_size < FIRST_BLOCK_SIZE && count >= FIRST_BLOCK_SIZE - s->raw_size)
    {
      /* The first block ends here, wherever the inner codec's writes do. */
      gsize first = (gsize) (FIRST_BLOCK_SIZE - s->raw_size);
      s->raw_size += first;
      if (!streaming_push (s, bytes, first, ZSTD_e_flush, error))
        return FALSE;
      bytes += first;
      count -= first;
    }
  s->raw_size += count;
  return streaming_push (s, bytes, count, ZSTD_e_continue, error);
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

/* ---- the record's head: header and inner reference ------------------------------ */

typedef struct {
  guint32 reference_len;
  guint64 raw_size, compressed_size, checksum;
  char reference[LF_ZSTD_MAX_REFERENCE_LEN + 1];
} RecordHead;

/* The 40-byte header, checked: loads and describe refuse alike. */
static gboolean
parse_header (const guint8 *header, RecordHead *head, GError **error)
{
  if (memcmp (header, LF_ZSTD_RECORD_MAGIC, LF_ZSTD_RECORD_MAGIC_LEN) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "not a compressed record: the magic is not \\x93LFZSTD "
                   "(was the file written with another codec?)");
      return FALSE;
    }
  guint version = header[LF_ZSTD_AT_VERSION];
  guint32 flags = lf_le_get_u32 (header + LF_ZSTD_AT_FLAGS);
  if (version != LF_ZSTD_RECORD_VERSION || flags != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "compressed record version %u with flags 0x%x; this reader knows "
                   "version %u with flags 0", version, flags, LF_ZSTD_RECORD_VERSION);
      return FALSE;
    }
  head->reference_len = lf_le_get_u32 (header + LF_ZSTD_AT_REFERENCE_LEN);
  head->raw_size = lf_le_get_u64 (header + LF_ZSTD_AT_RAW_SIZE);
  head->compressed_size = lf_le_get_u64 (header + LF_ZSTD_AT_COMPRESSED_SIZE);
  head->checksum = lf_le_get_u64 (header + LF_ZSTD_AT_CHECKSUM);
  if (head->reference_len == 0 || head->reference_len > LF_ZSTD_MAX_REFERENCE_LEN)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: inner codec reference of %u bytes "
                   "(expected 1 to %u)", head->reference_len, LF_ZSTD_MAX_REFERENCE_LEN);
      return FALSE;
    }
  return TRUE;
}

/* The sizes against what the stream holds, when it knows (`header_unread`:
 * header bytes still ahead of the position). */
static gboolean
check_sizes (LfStream *in, const RecordHead *head, gsize header_unread, GError **error)
{
  guint64 remaining;
  if (lf_stream_get_remaining (in, &remaining))
    {
      remaining -= MIN (remaining, header_unread);
      if (head->compressed_size > remaining
          || head->reference_len > remaining - head->compressed_size)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                       "compressed record: expected %u + %" G_GUINT64_FORMAT " bytes (inner "
                       "reference and frame) after the header, found %" G_GUINT64_FORMAT,
                       head->reference_len, head->compressed_size, remaining);
          return FALSE;
        }
    }
  if (head->compressed_size > G_MAXSIZE || head->raw_size > G_MAXSIZE
      || head->compressed_size == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: sizes %" G_GUINT64_FORMAT " (raw) and %"
                   G_GUINT64_FORMAT " (compressed) are impossible", head->raw_size,
                   head->compressed_size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_reference (const guint8 *bytes, RecordHead *head, GError **error)
{
  memcpy (head->reference, bytes, head->reference_len);
  head->reference[head->reference_len] = '\0';
  if (strlen (head->reference) != head->reference_len
      || !g_utf8_validate (head->reference, -1, NULL))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: the inner codec reference is not text");
      return FALSE;
    }
  return TRUE;
}

/* Consumes the header and the reference (loads). */
static gboolean
read_head (LfStream *in, RecordHead *head, GError **error)
{
  guint8 header[LF_ZSTD_RECORD_HEADER_SIZE];
  if (!lf_stream_read (in, header, sizeof header, error))
    {
      g_prefix_error (error, "compressed record header: ");
      return FALSE;
    }
  if (!parse_header (header, head, error) || !check_sizes (in, head, 0, error))
    return FALSE;
  guint8 reference[LF_ZSTD_MAX_REFERENCE_LEN];
  if (!lf_stream_read (in, reference, head->reference_len, error))
    {
      g_prefix_error (error, "compressed record: ");
      return FALSE;
    }
  return parse_reference (reference, head, error);
}

/* The same without consuming anything (describe). */
static gboolean
peek_head (LfStream *in, RecordHead *head, GError **error)
{
  const guint8 *bytes = lf_stream_peek (in, LF_ZSTD_RECORD_HEADER_SIZE, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, "compressed record header: ");
      return FALSE;
    }
  if (!parse_header (bytes, head, error)
      || !check_sizes (in, head, LF_ZSTD_RECORD_HEADER_SIZE, error))
    return FALSE;
  bytes = lf_stream_peek (in, LF_ZSTD_RECORD_HEADER_SIZE + head->reference_len, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, "compressed record: ");
      return FALSE;
    }
  return parse_reference (bytes + LF_ZSTD_RECORD_HEADER_SIZE, head, error);
}

/* The codec the record names (transfer full): this codec's own inner codec
 * when the reference is its canonical text, else resolved in its registry. */
static LfCodec *
inner_for_reference (const LfCodec *codec, const char *reference, GError **error)
{
  const CompressedOptions *o = lf_codec_get_data (codec);
  if (strcmp (reference, o->inner_reference) == 0)
    return lf_codec_ref (o->inner);
  LfCodec *inner = lf_registry_resolve (lf_codec_get_registry (codec), reference, error);
  if (inner == NULL)
    g_prefix_error (error, "compressed record: inner codec \"%s\": ", reference);
  return inner;
}

/* ---- zstd frames ------------------------------------------------------------------ */

/* This thread's decompression context, reset and capped (whatever
 * describe kept in it is gone). */
static ZSTD_DCtx *
prepared_dctx (GError **error)
{
  Decoder *decoder = get_decoder ();
  ZSTD_DCtx *dctx = decoder->dctx;
  if (dctx == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "zstd: cannot create a context");
      return NULL;
    }
  decoder->resets++;
  decoder->kept = FALSE;
  ZSTD_DCtx_reset (dctx, ZSTD_reset_session_and_parameters);
  ZSTD_DCtx_setParameter (dctx, ZSTD_d_windowLogMax, LF_ZSTD_MAX_WINDOW_LOG);
  return dctx;
}

/* One wording and one code for each zstd failure, for loads, describe and
 * every tool built on them: a window above the cap is a well-formed frame
 * this reader refuses, anything else is corruption. */
static void
set_zstd_error (size_t status, GError **error)
{
  if (ZSTD_getErrorCode (status) == ZSTD_error_frameParameter_windowTooLarge)
    g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                 "the zstd frame needs a window above %u MiB, the most this reader allows",
                 (1u << LF_ZSTD_MAX_WINDOW_LOG) >> 20);
  else
    g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT, "the zstd frame is corrupt: %s",
                 ZSTD_getErrorName (status));
}

static void
refuse_raw_size (guint64 raw_size, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
               "the zstd frame is malformed or does not hold the %" G_GUINT64_FORMAT
               " bytes the record declares", raw_size);
}

/* The frame's own content size, when it states one, must be the record's
 * (`size`: the bytes of the frame at hand, at least its header's). */
static gboolean
check_content_size (const guint8 *frame, gsize size, guint64 raw_size, GError **error)
{
  unsigned long long declared = ZSTD_getFrameContentSize (frame, size);
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == raw_size)
    return TRUE;
  refuse_raw_size (raw_size, error);
  return FALSE;
}

static void
refuse_allocation (gsize size, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
               "out of memory: cannot allocate %" G_GSIZE_FORMAT " bytes for the "
               "decompressed record", size);
}

/* Runs the whole frame through zstd into `output`, which grows with the
 * output, never past `raw_size`: a lying size cannot make it allocate what
 * the frame does not hold. */
static gboolean
decompress_all (ZSTD_DCtx *dctx, ZSTD_inBuffer *input, ZSTD_outBuffer *output,
                guint64 raw_size, GError **error)
{
  for (;;)
    {
      size_t status = ZSTD_decompressStream (dctx, output, input);
      if (ZSTD_isError (status))
        {
          set_zstd_error (status, error);
          return FALSE;
        }
      if (status == 0)
        return TRUE;                              /* frame complete */
      if (output->pos < output->size)
        {
          if (input->pos < input->size)
            continue;
          g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                       "the zstd frame ends early (%" G_GSIZE_FORMAT " bytes)", input->size);
          return FALSE;
        }
      if (output->size >= raw_size)
        {
          /* Full at the declared size: the frame must end here. */
          guint8 probe;
          ZSTD_outBuffer extra = { &probe, 1, 0 };
          status = ZSTD_decompressStream (dctx, &extra, input);
          if (!ZSTD_isError (status) && extra.pos == 0 && status == 0)
            return TRUE;
          g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                       "the zstd frame holds more than the %" G_GUINT64_FORMAT
                       " bytes the record declares", raw_size);
          return FALSE;
        }
      gsize size = (gsize) MIN (raw_size, (guint64) output->size * 2);
      gpointer bigger = g_try_realloc (output->dst, size);
      if (bigger == NULL)
        {
          refuse_allocation (size, error);
          return FALSE;
        }
      output->dst = bigger;
      output->size = size;
    }
}

/* Whether the context holds what describe left for `head`'s record, whose
 * frame is `src`. */
static gboolean
kept_for (const Decoder *decoder, const RecordHead *head, const guint8 *src, gsize src_size)
{
  return decoder->kept && decoder->raw_size == head->raw_size
         && decoder->compressed_size == head->compressed_size
         && decoder->checksum == head->checksum && decoder->frame->len <= src_size
         && memcmp (src, decoder->frame->data, decoder->frame->len) == 0;
}

/* Decompresses the whole frame of `head`'s record, going on from where
 * describe stopped when the context holds its state. */
static GBytes *
decompress_record (const guint8 *src, gsize src_size, const RecordHead *head, GError **error)
{
  guint64 raw_size = head->raw_size;
  Decoder *decoder = get_decoder ();
  gboolean resume = kept_for (decoder, head, src, src_size);
  decoder->kept = FALSE;
  ZSTD_DCtx *dctx = resume ? decoder->dctx : prepared_dctx (error);
  if (dctx == NULL || (!resume && !check_content_size (src, src_size, raw_size, error)))
    return NULL;

  gsize kept_out = resume ? decoder->out->len : 0;
  gsize capacity = (gsize) MAX (MIN (raw_size, MAX ((guint64) src_size * 4, 1u << 16)), 1);
  capacity = MAX (capacity, kept_out);
  ZSTD_inBuffer input = { src, src_size, resume ? decoder->frame->len : 0 };
  ZSTD_outBuffer output = { g_try_malloc (capacity), capacity, kept_out };
  if (output.dst == NULL)
    {
      refuse_allocation (capacity, error);
      return NULL;
    }
  if (kept_out > 0)
    memcpy (output.dst, decoder->out->data, kept_out);
  if (!(resume && decoder->frame_done)
      && !decompress_all (dctx, &input, &output, raw_size, error))
    {
      g_free (output.dst);
      return NULL;
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

/* Decompresses the start of a frame, of which `src_size` bytes are at hand,
 * into `out` (at most `capacity` bytes).  Returns the bytes produced, or -1
 * with the error set; `*frame_done` says the frame ended, `*consumed` how
 * many bytes of `src` the context took. */
static gssize
decompress_prefix (const guint8 *src, gsize src_size, guint8 *out, gsize capacity,
                   gboolean *frame_done, gsize *consumed, GError **error)
{
  ZSTD_DCtx *dctx = prepared_dctx (error);
  if (dctx == NULL)
    return -1;
  ZSTD_inBuffer input = { src, src_size, 0 };
  ZSTD_outBuffer output = { out, capacity, 0 };
  *frame_done = FALSE;
  while (output.pos < output.size && input.pos < input.size)
    {
      gsize before_in = input.pos, before_out = output.pos;
      size_t status = ZSTD_decompressStream (dctx, &output, &input);
      if (ZSTD_isError (status))
        {
          set_zstd_error (status, error);
          return -1;
        }
      *frame_done = status == 0;
      if (*frame_done || (input.pos == before_in && output.pos == before_out))
        break;
    }
  *consumed = input.pos;
  return (gssize) output.pos;
}

/* ---- describing --------------------------------------------------------------------- */

/* Describe decompresses this many bytes of the inner record first (an npy
 * header is 128), from at most this many bytes of frame, and four times as
 * many each time the inner codec's describe wants more. */
#define DESCRIBE_FIRST_STEP ((gsize) 1024)

/* Why the inner record could not be described from the `got` bytes of it
 * that the first `frame_seen` bytes of the frame gave. */
static gboolean
refuse_inner (GError *local, const RecordHead *head, gsize got, gboolean input_short,
              gsize frame_seen, GError **error)
{
  if (!g_error_matches (local, LF_ERROR, LF_ERROR_TRUNCATED))
    {
      g_propagate_prefixed_error (error, local, "compressed record (inner %s): ",
                                  head->reference);
      return FALSE;
    }
  if (!input_short)
    {
      /* The frame gave all it holds: the record inside it is cut short. */
      local->code = LF_ERROR_CORRUPT;
      g_propagate_prefixed_error (error, local, "compressed record: the inner %s record "
                                  "is cut short at %" G_GSIZE_FORMAT " bytes: ",
                                  head->reference, got);
      return FALSE;
    }
  g_error_free (local);
  if (frame_seen == head->compressed_size)
    g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                 "compressed record: the zstd frame ends early (%" G_GUINT64_FORMAT
                 " bytes)", head->compressed_size);
  else
    g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                 "compressed record: the inner %s record's header is not within the "
                 "first %" G_GSIZE_FORMAT " bytes of the frame", head->reference, frame_seen);
  return FALSE;
}

/* Keeps the context's state after describing `head`'s record from the
 * first `consumed` bytes of its `frame`, which gave `out`, for the load of
 * the record; not when something reset the context since (`resets`): the
 * inner codec's describe of a nested compressed record does. */
static void
keep_described (const RecordHead *head, const guint8 *frame, gsize consumed,
                const guint8 *out, gsize got, gboolean frame_done, guint resets)
{
  Decoder *decoder = get_decoder ();
  if (decoder->resets != resets)
    return;
  decoder->kept = TRUE;
  decoder->raw_size = head->raw_size;
  decoder->compressed_size = head->compressed_size;
  decoder->checksum = head->checksum;
  decoder->frame_done = frame_done;
  g_byte_array_set_size (decoder->frame, 0);
  g_byte_array_append (decoder->frame, frame, (guint) consumed);
  g_byte_array_set_size (decoder->out, 0);
  g_byte_array_append (decoder->out, out, (guint) got);
}

/* The inner record's description from a prefix of the frame.  The frame
 * is peeked, never past the record's own compressed size (a caller's fd
 * keeps the bytes after the record) nor past LF_STREAM_PEEK_MAX. */
static gboolean
describe_inner (LfStream *in, const RecordHead *head, const LfCodec *inner, const LfNode *like,
                LfRecordInfo *info, GError **error)
{
  gsize head_size = LF_ZSTD_RECORD_HEADER_SIZE + head->reference_len;
  gsize frame_max = (gsize) MIN (head->compressed_size, LF_STREAM_PEEK_MAX - head_size);
  gsize out_max = (gsize) MIN (head->raw_size, LF_STREAM_PEEK_MAX);
  gsize frame_want = MIN (frame_max, DESCRIBE_FIRST_STEP);
  gsize out_want = MIN (out_max, DESCRIBE_FIRST_STEP);
  g_autofree guint8 *out = g_malloc (MAX (out_want, 1));
  g_autofree char *name = g_strdup_printf ("%s (compressed record)", lf_stream_get_name (in));
  for (;;)
    {
      const guint8 *bytes = lf_stream_peek (in, head_size + frame_want, error);
      if (bytes == NULL)
        {
          g_prefix_error (error, "compressed record: ");
          return FALSE;
        }
      gboolean frame_done;
      gsize consumed = 0;
      gssize got = -1;
      if (check_content_size (bytes + head_size, frame_want, head->raw_size, error))
        got = decompress_prefix (bytes + head_size, frame_want, out, out_want, &frame_done,
                                 &consumed, error);
      guint resets = get_decoder ()->resets;
      if (got >= 0 && frame_done && (guint64) got != head->raw_size)
        {
          refuse_raw_size (head->raw_size, error);
          got = -1;
        }
      if (got < 0)
        {
          g_prefix_error (error, "compressed record: ");
          return FALSE;
        }

      g_autoptr (LfStream) prefix = lf_stream_new_for_data (out, (gsize) got);
      lf_stream_set_name (prefix, name);
      GError *local = NULL;
      if (lf_codec_describe (inner, prefix, like, info, &local))
        {
          keep_described (head, bytes + head_size, consumed, out, (gsize) got, frame_done,
                          resets);
          return TRUE;
        }
      gboolean input_short = (gsize) got < out_want && !frame_done;
      gboolean more_out = (gsize) got == out_want && out_want < out_max;
      gboolean more_in = input_short && frame_want < frame_max;
      if (!g_error_matches (local, LF_ERROR, LF_ERROR_TRUNCATED) || !(more_out || more_in))
        return refuse_inner (local, head, (gsize) got, input_short, frame_want, error);
      g_error_free (local);
      if (more_out)
        {
          out_want = MIN (out_max, out_want * 4);
          out = g_realloc (out, out_want);
        }
      frame_want = more_in ? MIN (frame_max, frame_want * 4) : frame_want;
    }
}

static gboolean
compressed_describe (const LfCodec *codec, LfStream *in, const LfNode *like,
                     LfRecordInfo *info, GError **error)
{
  RecordHead head;
  if (!peek_head (in, &head, error))
    return FALSE;
  g_autoptr (LfCodec) inner = inner_for_reference (codec, head.reference, error);
  if (inner == NULL)
    return FALSE;
  g_autoptr (LfRecordInfo) inner_info = lf_record_info_new ();
  if (!describe_inner (in, &head, inner, like, inner_info, error))
    return FALSE;
  guint64 inner_size = lf_record_info_get_stored_size (inner_info);
  if (inner_size != head.raw_size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "compressed record: the inner %s record is %s%" G_GUINT64_FORMAT
                   " bytes long, the record declares %" G_GUINT64_FORMAT, head.reference,
                   inner_size == LF_RECORD_SIZE_UNKNOWN ? "of unknown size, not " : "",
                   inner_size == LF_RECORD_SIZE_UNKNOWN ? head.raw_size : inner_size,
                   head.raw_size);
      return FALSE;
    }
  guint64 head_size = LF_ZSTD_RECORD_HEADER_SIZE + (guint64) head.reference_len;
  lf_record_info_set_leaf (info, lf_record_info_get_kind (inner_info),
                           lf_record_info_get_dtype (inner_info),
                           lf_record_info_get_ndim (inner_info),
                           lf_record_info_get_shape (inner_info));
  lf_record_info_set_stored_dtype (info, lf_record_info_get_stored_dtype (inner_info));
  lf_record_info_set_sizes (info, head_size + head.compressed_size, head_size,
                            lf_record_info_get_decoded_size (inner_info));
  lf_record_info_set_inner (info, head.reference, inner_info);
  return TRUE;
}

/* ---- loading ------------------------------------------------------------------------ */

/* The frame read, decompressed and checked against the stored checksum. */
static GBytes *
read_inner_record (LfStream *in, const RecordHead *head, GError **error)
{
  g_autoptr (GBytes) compressed = lf_stream_read_bytes (in, (gsize) head->compressed_size,
                                                        error);
  if (compressed == NULL)
    {
      g_prefix_error (error, "compressed record: ");
      return NULL;
    }
  gsize src_size;
  const guint8 *src = g_bytes_get_data (compressed, &src_size);
  g_autoptr (GBytes) raw = decompress_record (src, src_size, head, error);
  if (raw == NULL)
    {
      g_prefix_error (error, "compressed record: ");
      return NULL;
    }
  gsize size;
  gconstpointer data = g_bytes_get_data (raw, &size);
  guint64 computed = XXH3_64bits (data, size);
  if (computed != head->checksum)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CHECKSUM,
                   "compressed record: checksum mismatch (stored %016" G_GINT64_MODIFIER
                   "x, computed %016" G_GINT64_MODIFIER "x): the record is corrupt",
                   head->checksum, computed);
      return NULL;
    }
  return g_steal_pointer (&raw);
}

/* The inner codec's leaf from the decompressed record, which it must use up. */
static LfNode *
decode_inner (const LfCodec *inner, GBytes *raw, LfStream *in, const char *reference,
              const LfPath *path, LfNode *like, GError **error)
{
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
                   lf_stream_tell (inner_stream), g_bytes_get_size (raw));
      return NULL;
    }
  return g_steal_pointer (&leaf);
}

static LfNode *
compressed_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                        GError **error)
{
  RecordHead head;
  if (!read_head (in, &head, error))
    return NULL;
  g_autoptr (GBytes) raw = read_inner_record (in, &head, error);
  if (raw == NULL)
    return NULL;
  g_autoptr (LfCodec) inner = inner_for_reference (codec, head.reference, error);
  if (inner == NULL)
    return NULL;
  return decode_inner (inner, raw, in, head.reference, path, like, error);
}

/* A wrapper of any codec: what is inside is the inner codec's business, and
 * nothing of the record lines up with the leaf's rows. */
static void
compressed_get_capabilities (const LfCodec *codec, LfCodecCapabilities *caps)
{
  const CompressedOptions *o = lf_codec_get_data (codec);
  caps->inner = o->inner;
}

static const LfCodecClass compressed_codec = {
  .struct_size = sizeof (LfCodecClass),
  /* Small leaves on the walker's pool; big ones use zstd's own workers. */
  .flags = LF_CODEC_PARALLEL_SMALL_LEAVES,
  .name = "compressed",
  .description = "an inner codec's record compressed with zstd, with a checksum",
  .parse_options = compressed_parse_options,
  .free_options = compressed_free_options,
  .handles = compressed_handles,
  .serialise = compressed_serialise,
  .deserialise = compressed_deserialise,
  .describe = compressed_describe,
  .get_capabilities = compressed_get_capabilities,
};

LF_PLUGIN_DEFINE ("compressed", PACKAGE_VERSION,
                  "compressed: zstd around any codec's records", &compressed_codec)
