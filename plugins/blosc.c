/* blosc: arrays as an npy header and data compressed by c-blosc, which
 * shuffles the bytes (or bits) of each element into planes before its
 * compressor sees them.  Float weights keep their noise in the mantissa
 * bytes and their regularity in the exponent bytes; shuffled, the exponent
 * planes compress well, where plain zstd finds little to do.
 *
 * The record's layout is in blosc-format.h (and docs/FORMAT.md, with a
 * Python reader).  The data is cut into chunks (blosc buffers hold under
 * 2 GiB), each one blosc buffer, compressed on worker threads (blosc-encode.c), and
 * the checksum covers the raw data.  Reading checks every size from the
 * record against the others and against what the stream holds, validates
 * each blosc buffer before decompressing it straight into the array, and
 * checks the checksum before the array is handed out.  Only blosc's
 * context calls are used (no global state), as loads run on threads.
 *
 * Options: shuffle=byte|bit|none (default byte), clevel=0..9 (default 1),
 * compressor=zstd|lz4|lz4hc|blosclz|zlib (default zstd), threads=N (0: one
 * per CPU, the default), blocksize=N bytes (0: blosc chooses, the default),
 * chunk_mb=1..1024 (default 1: small enough that a 2 MiB leaf keeps two
 * workers busy; the blocks inside a chunk, not the chunks, set the ratio). */
#include "config.h"

#include <blosc.h>
#include <xxhash.h>

/* LfNpyHeader: a built-in codec ships with the library it is built with. */
#define LEAFIO_UNSTABLE_API
#include <leafio/leafio.h>

#include "blosc-encode.h"
#include "blosc-format.h"

/* Leaves under this size are compressed in the calling thread alone:
 * starting blosc's workers costs more than they save. */
#define THREADED_MIN_SIZE ((gsize) 2 << 20)

typedef struct {
  int shuffle;              /* BLOSC_SHUFFLE, BLOSC_BITSHUFFLE or BLOSC_NOSHUFFLE */
  int clevel;
  const char *compressor;   /* one of compressor_choices */
  int threads;
  gsize blocksize;
  guint64 chunk_size;
} BloscOptions;

/* ---- options ---------------------------------------------------------------- */

static const char *const shuffle_choices[] = { "byte", "bit", "none", NULL };
static const int shuffle_codes[] = { BLOSC_SHUFFLE, BLOSC_BITSHUFFLE, BLOSC_NOSHUFFLE };
static const char *const compressor_choices[] = { "zstd", "lz4", "lz4hc", "blosclz", "zlib",
                                                  NULL };

static gpointer
lfblosc_parse_options (LfCodecOptions *options, GError **error)
{
  guint shuffle, compressor;
  gint64 clevel, threads, blocksize, chunk_mb;

  if (!lf_codec_options_get_choice (options, "shuffle", shuffle_choices, 0, &shuffle, error)
      || !lf_codec_options_get_int (options, "clevel", 0, 9, 1, &clevel, error)
      || !lf_codec_options_get_choice (options, "compressor", compressor_choices, 0,
                                       &compressor, error)
      || !lf_codec_options_get_int (options, "threads", 0, BLOSC_MAX_THREADS, 0, &threads,
                                    error)
      || !lf_codec_options_get_int (options, "blocksize", 0, 64 << 20, 0, &blocksize, error)
      || !lf_codec_options_get_int (options, "chunk_mb", 1,
                                    (gint64) (LF_BLOSC_MAX_CHUNK >> 20), 1, &chunk_mb, error))
    return NULL;
  if (blosc_compname_to_compcode (compressor_choices[compressor]) < 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OPTIONS,
                   "codec 'blosc': option compressor=%s: this c-blosc was built without it "
                   "(it has %s)", compressor_choices[compressor], blosc_list_compressors ());
      return NULL;
    }

  BloscOptions *o = g_new0 (BloscOptions, 1);
  o->shuffle = shuffle_codes[shuffle];
  o->clevel = (int) clevel;
  o->compressor = compressor_choices[compressor];
  o->threads = threads > 0 ? (int) threads
                           : (int) CLAMP (g_get_num_processors (), 1, BLOSC_MAX_THREADS);
  o->blocksize = (gsize) blocksize;
  o->chunk_size = (guint64) chunk_mb << 20;
  return o;
}

static gboolean
lfblosc_handles (const LfCodec *codec, const LfNode *leaf)
{
  LfNodeKind kind = lf_node_get_kind (leaf);
  return kind == LF_NODE_ARRAY || kind == LF_NODE_SCALAR;
}

/* ---- saving --------------------------------------------------------------------- */

/* What is stored of a leaf: a scalar is a 0-d array, as numpy saves it. */
typedef struct {
  LfDType dtype;
  guint ndim;
  const gsize *shape;
  const guint8 *data;
  gsize size;
} LeafData;

static gboolean
leaf_data (LfNode *leaf, LeafData *d, GError **error)
{
  if (lf_node_get_kind (leaf) == LF_NODE_SCALAR)
    {
      d->dtype = lf_scalar_get_dtype (leaf);
      d->ndim = 0;
      d->shape = NULL;
      d->data = lf_scalar_get_value (leaf);
      d->size = lf_dtype_size (d->dtype);
      return TRUE;
    }
  if (lf_array_is_abstract (leaf))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "blosc: an abstract array (shape and dtype only) has no data to store");
      return FALSE;
    }
  d->dtype = lf_array_get_dtype (leaf);
  d->ndim = lf_array_get_ndim (leaf);
  d->shape = lf_array_get_shape (leaf);
  d->data = lf_array_get_data (leaf);
  d->size = lf_array_get_n_bytes (leaf);
  return TRUE;
}

/* Shuffling works on elements; a complex number is two floats. */
static gsize
shuffle_unit (LfDType dtype)
{
  gsize size = lf_dtype_size (dtype);
  return lf_dtype_is_complex (dtype) ? size / 2 : size;
}

static void
fill_header (guint8 *header, gsize npy_header_len, guint64 chunk_size, guint64 compressed_size,
             guint64 checksum)
{
  memset (header, 0, LF_BLOSC_RECORD_HEADER_SIZE);
  memcpy (header, LF_BLOSC_RECORD_MAGIC, LF_BLOSC_RECORD_MAGIC_LEN);
  header[LF_BLOSC_AT_VERSION] = LF_BLOSC_RECORD_VERSION;
  header[LF_BLOSC_AT_FLAGS] = LF_BLOSC_FLAG_CHECKSUM;
  lf_le_put_u32 (header + LF_BLOSC_AT_NPY_HEADER_LEN, (guint32) npy_header_len);
  lf_le_put_u64 (header + LF_BLOSC_AT_CHUNK_SIZE, chunk_size);
  lf_le_put_u64 (header + LF_BLOSC_AT_COMPRESSED_SIZE, compressed_size);
  lf_le_put_u64 (header + LF_BLOSC_AT_CHECKSUM, checksum);
}

/* Leaves of one chunk, and outputs that cannot be rewritten, get their
 * chunks compressed into memory first; bigger leaves stream their chunks
 * to the output and fill the header in last. */
static gboolean
lfblosc_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                   GError **error)
{
  const BloscOptions *o = lf_codec_get_data (codec);
  LeafData d;
  if (!leaf_data (leaf, &d, error))
    return FALSE;
  char npy[LF_NPY_HEADER_MAX];
  gsize npy_len = lf_npy_header_format (npy, sizeof npy, d.dtype, d.ndim, d.shape, 0, 0);
  if (npy_len == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "blosc: the array's npy header does not fit in %u bytes", LF_NPY_HEADER_MAX);
      return FALSE;
    }
  gsize chunk_size = (gsize) o->chunk_size;
  guint8 header[LF_BLOSC_RECORD_HEADER_SIZE];
  gboolean direct = d.size > chunk_size && lf_stream_can_rewrite (out);
  guint64 header_position = lf_stream_tell (out);
  g_autoptr (LfStream) memory = direct ? NULL : lf_stream_new_memory ();

  fill_header (header, npy_len, chunk_size, 0, 0);   /* sizes and checksum come later */
  if (direct && !(lf_stream_write (out, header, sizeof header, error)
                  && lf_stream_write (out, npy, npy_len, error)))
    return FALSE;
  LfBloscParams params = { o->clevel, o->shuffle, shuffle_unit (d.dtype), o->compressor,
                           o->blocksize };
  int threads = d.size >= THREADED_MIN_SIZE ? o->threads : 1;
  guint64 compressed_size, checksum;
  if (!lf_blosc_encode_chunks (&params, d.data, d.size, chunk_size, threads,
                               direct ? out : memory, &compressed_size, &checksum, error))
    return FALSE;
  fill_header (header, npy_len, chunk_size, compressed_size, checksum);
  if (direct)
    return lf_stream_rewrite (out, header_position, header, sizeof header, error);
  if (!lf_stream_flush (memory, error))
    return FALSE;
  g_autoptr (GBytes) chunks = lf_stream_steal_bytes (memory);
  return lf_stream_write (out, header, sizeof header, error)
         && lf_stream_write (out, npy, npy_len, error)
         && lf_stream_write (out, g_bytes_get_data (chunks, NULL), g_bytes_get_size (chunks),
                             error);
}

/* ---- the record's head ------------------------------------------------------------ */

typedef struct {
  guint flags;
  gsize npy_header_len;
  guint64 chunk_size, compressed_size, checksum;
  guint64 n_chunks;
  LfNpyHeader npy;
} RecordHead;

/* The 40-byte header, checked: loads and describe refuse alike. */
static gboolean
parse_header (const guint8 *header, RecordHead *head, GError **error)
{
  if (memcmp (header, LF_BLOSC_RECORD_MAGIC, LF_BLOSC_RECORD_MAGIC_LEN) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "not a blosc record: the magic is not \\x93LFBLOSC "
                   "(was the file written with another codec?)");
      return FALSE;
    }
  guint version = header[LF_BLOSC_AT_VERSION];
  head->flags = header[LF_BLOSC_AT_FLAGS];
  guint reserved = header[LF_BLOSC_AT_RESERVED] | header[LF_BLOSC_AT_RESERVED + 1];
  if (version != LF_BLOSC_RECORD_VERSION || (head->flags & ~LF_BLOSC_FLAG_CHECKSUM) != 0
      || reserved != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "blosc record version %u with flags 0x%x; this reader knows version %u "
                   "with flags 0 or 1", version, head->flags, LF_BLOSC_RECORD_VERSION);
      return FALSE;
    }
  head->npy_header_len = lf_le_get_u32 (header + LF_BLOSC_AT_NPY_HEADER_LEN);
  head->chunk_size = lf_le_get_u64 (header + LF_BLOSC_AT_CHUNK_SIZE);
  head->compressed_size = lf_le_get_u64 (header + LF_BLOSC_AT_COMPRESSED_SIZE);
  head->checksum = lf_le_get_u64 (header + LF_BLOSC_AT_CHECKSUM);
  if (head->npy_header_len < LF_NPY_MAGIC_LEN + 4
      || head->npy_header_len > LF_BLOSC_MAX_NPY_HEADER
      || head->chunk_size == 0 || head->chunk_size > LF_BLOSC_MAX_CHUNK)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "blosc record: npy header of %" G_GSIZE_FORMAT " bytes and chunks of %"
                   G_GUINT64_FORMAT " bytes (expected 10 to %u and 1 to %" G_GUINT64_FORMAT ")",
                   head->npy_header_len, head->chunk_size, LF_BLOSC_MAX_NPY_HEADER,
                   LF_BLOSC_MAX_CHUNK);
      return FALSE;
    }
  return TRUE;
}

/* The npy header (`bytes`, npy_header_len of them) and the sizes that
 * follow from it: the chunks must be able to hold the data and no more. */
static gboolean
parse_npy_header (const guint8 *bytes, RecordHead *head, GError **error)
{
  GError *local = NULL;
  if (!lf_npy_header_parse (bytes, head->npy_header_len, &head->npy, &local))
    {
      /* The record gave the header all its bytes: one that wants more is
       * corrupt, not cut short. */
      if (local->code == LF_ERROR_TRUNCATED)
        local->code = LF_ERROR_CORRUPT;
      g_propagate_prefixed_error (error, local, "blosc record: inner npy header: ");
      return FALSE;
    }
  if (head->npy.header_size != head->npy_header_len)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "blosc record: the inner npy header is %" G_GSIZE_FORMAT
                   " bytes long, the record declares %" G_GSIZE_FORMAT,
                   head->npy.header_size, head->npy_header_len);
      return FALSE;
    }
  guint64 data_size = head->npy.data_size;
  head->n_chunks = data_size / head->chunk_size + (data_size % head->chunk_size != 0);
  /* A chunk is a 16-byte header and at most its data (blosc copies what
   * it cannot compress). */
  guint64 least = head->n_chunks * LF_BLOSC_CHUNK_HEADER_SIZE;
  if (head->compressed_size < least
      || head->compressed_size - least > data_size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "blosc record: %" G_GUINT64_FORMAT " bytes of data in %" G_GUINT64_FORMAT
                   " chunks cannot take %" G_GUINT64_FORMAT " compressed bytes",
                   data_size, head->n_chunks, head->compressed_size);
      return FALSE;
    }
  return TRUE;
}

/* The compressed size against what the stream holds, when it knows
 * (`unread`: bytes of the head still ahead of the position). */
static gboolean
check_remaining (LfStream *in, const RecordHead *head, guint64 unread, GError **error)
{
  guint64 remaining;
  if (!lf_stream_get_remaining (in, &remaining))
    return TRUE;
  remaining -= MIN (remaining, unread);
  if (head->compressed_size <= remaining)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
               "blosc record: expected %" G_GUINT64_FORMAT " compressed bytes after the "
               "header, found %" G_GUINT64_FORMAT, head->compressed_size, remaining);
  return FALSE;
}

/* Header and npy header, peeked (the stream does not move). */
static gboolean
peek_head (LfStream *in, RecordHead *head, GError **error)
{
  const guint8 *bytes = lf_stream_peek (in, LF_BLOSC_RECORD_HEADER_SIZE, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, "blosc record header: ");
      return FALSE;
    }
  if (!parse_header (bytes, head, error))
    return FALSE;
  gsize head_size = LF_BLOSC_RECORD_HEADER_SIZE + head->npy_header_len;
  bytes = lf_stream_peek (in, head_size, error);
  if (bytes == NULL)
    {
      g_prefix_error (error, "blosc record: ");
      return FALSE;
    }
  return parse_npy_header (bytes + LF_BLOSC_RECORD_HEADER_SIZE, head, error)
         && check_remaining (in, head, head_size, error);
}

/* The same, consumed (loads). */
static gboolean
read_head (LfStream *in, RecordHead *head, GError **error)
{
  guint8 header[LF_BLOSC_RECORD_HEADER_SIZE];
  if (!lf_stream_read (in, header, sizeof header, error))
    {
      g_prefix_error (error, "blosc record header: ");
      return FALSE;
    }
  if (!parse_header (header, head, error))
    return FALSE;
  g_autofree guint8 *npy = g_malloc (head->npy_header_len);
  if (!lf_stream_read (in, npy, head->npy_header_len, error))
    {
      g_prefix_error (error, "blosc record: ");
      return FALSE;
    }
  return parse_npy_header (npy, head, error) && check_remaining (in, head, 0, error);
}

/* ---- describing --------------------------------------------------------------------- */

static gboolean
lfblosc_describe (const LfCodec *codec, LfStream *in, const LfNode *like, LfRecordInfo *info,
                  GError **error)
{
  RecordHead head;
  if (!peek_head (in, &head, error))
    return FALSE;
  guint64 head_size = LF_BLOSC_RECORD_HEADER_SIZE + (guint64) head.npy_header_len;
  lf_record_info_set_leaf (info, LF_NODE_ARRAY, head.npy.dtype, head.npy.ndim,
                           head.npy.shape);
  lf_record_info_set_sizes (info, head_size + head.compressed_size, head_size,
                            head.npy.data_size);
  return TRUE;
}

/* ---- loading ------------------------------------------------------------------------ */

/* Reads chunk `index` (`size` bytes of data, starting at `data`) and
 * decompresses it in place with `threads` of blosc's threads (its output
 * does not depend on them); `left`: compressed bytes of the record not yet
 * read, lowered by the chunk's. */
static gboolean
read_chunk (LfStream *in, int threads, guint64 index, guint8 *data, gsize size,
            guint64 *left, GError **error)
{
  const guint8 *peeked = lf_stream_peek (in, LF_BLOSC_CHUNK_HEADER_SIZE, error);
  if (peeked == NULL)
    {
      g_prefix_error (error, "blosc record: chunk %" G_GUINT64_FORMAT ": ", index);
      return FALSE;
    }
  size_t nbytes = 0, cbytes = 0, blocksize = 0;
  blosc_cbuffer_sizes (peeked, &nbytes, &cbytes, &blocksize);
  if (nbytes != size || cbytes < LF_BLOSC_CHUNK_HEADER_SIZE
      || cbytes > size + LF_BLOSC_CHUNK_HEADER_SIZE || cbytes > *left)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "blosc record: chunk %" G_GUINT64_FORMAT " declares %zu bytes in %zu "
                   "compressed; expected %" G_GSIZE_FORMAT " in at most %" G_GUINT64_FORMAT,
                   index, nbytes, cbytes, size,
                   MIN (*left, (guint64) size + LF_BLOSC_CHUNK_HEADER_SIZE));
      return FALSE;
    }
  g_autoptr (GBytes) chunk = lf_stream_read_bytes (in, cbytes, error);
  if (chunk == NULL)
    {
      g_prefix_error (error, "blosc record: chunk %" G_GUINT64_FORMAT ": ", index);
      return FALSE;
    }
  *left -= cbytes;
  const guint8 *src = g_bytes_get_data (chunk, NULL);
  if (blosc_cbuffer_validate (src, cbytes, &nbytes) != 0 || nbytes != size
      || blosc_decompress_ctx (src, data, size, threads) != (int) size)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "blosc record: chunk %" G_GUINT64_FORMAT " (%zu compressed bytes) is "
                   "corrupt: blosc cannot decompress it to %" G_GSIZE_FORMAT " bytes",
                   index, cbytes, size);
      return FALSE;
    }
  return TRUE;
}

/* The raw data, every chunk decompressed into one buffer and checked. */
static GBytes *
read_data (LfStream *in, const BloscOptions *o, const RecordHead *head, GError **error)
{
  gsize size = head->npy.data_size;
  guint8 *data = g_try_malloc (MAX (size, 1));
  if (data == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE,
                   "blosc record: cannot allocate %" G_GSIZE_FORMAT " bytes for the data",
                   size);
      return NULL;
    }
  g_autoptr (GBytes) bytes = g_bytes_new_take (data, size);
  guint64 left = head->compressed_size;
  int threads = size >= THREADED_MIN_SIZE ? o->threads : 1;
  for (guint64 i = 0; i < head->n_chunks; i++)
    {
      gsize at = (gsize) (i * head->chunk_size);
      if (!read_chunk (in, threads, i, data + at, (gsize) MIN (head->chunk_size, size - at), &left,
                       error))
        return NULL;
    }
  if (left != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                   "blosc record: the chunks take %" G_GUINT64_FORMAT " of the %"
                   G_GUINT64_FORMAT " compressed bytes the record declares",
                   head->compressed_size - left, head->compressed_size);
      return NULL;
    }
  guint64 computed = XXH3_64bits (data, size);
  if ((head->flags & LF_BLOSC_FLAG_CHECKSUM) && computed != head->checksum)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_CHECKSUM,
                   "blosc record: checksum mismatch (stored %016" G_GINT64_MODIFIER
                   "x, computed %016" G_GINT64_MODIFIER "x): the record is corrupt",
                   head->checksum, computed);
      return NULL;
    }
  return g_steal_pointer (&bytes);
}

static LfNode *
lfblosc_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                     GError **error)
{
  const BloscOptions *o = lf_codec_get_data (codec);
  RecordHead head;
  if (!read_head (in, &head, error)
      || !lf_codec_check_array_like (like, head.npy.dtype, head.npy.ndim, head.npy.shape,
                                     error))
    return NULL;
  g_autoptr (GBytes) data = read_data (in, o, &head, error);
  if (data == NULL)
    return NULL;
  /* The npy reader turns other byte orders and Fortran order into the
   * array's; native C-ordered data is handed out as it is. */
  g_autoptr (LfStream) raw = lf_stream_new_for_bytes (data);
  return lf_npy_read_data (raw, &head.npy, error);
}

static const LfCodecClass blosc_codec = {
  .struct_size = sizeof (LfCodecClass),
  /* Small leaves on the walker's pool; big ones use blosc's own threads. */
  .flags = LF_CODEC_PARALLEL_SMALL_LEAVES,
  .name = "blosc",
  .description = "arrays shuffled and compressed by c-blosc (zstd inside), with a checksum",
  .parse_options = lfblosc_parse_options,
  .free_options = g_free,
  .handles = lfblosc_handles,
  .serialise = lfblosc_serialise,
  .deserialise = lfblosc_deserialise,
  .describe = lfblosc_describe,
};

/* Each shuffled byte plane is compressed as a stream of its own: on float
 * weights that is what gets the exponent planes small (c-blosc applies
 * the split mode to every compression, context calls included; it only
 * changes how blocks are written, and every reader reads either). */
static gboolean
lfblosc_init (GError **error)
{
  blosc_set_splitmode (BLOSC_ALWAYS_SPLIT);
  return TRUE;
}

LF_PLUGIN_DEFINE_FULL ("blosc", PACKAGE_VERSION,
                       "blosc: byte- or bit-shuffled arrays compressed by c-blosc",
                       lfblosc_init, &blosc_codec)
