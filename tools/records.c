/* Reading a file record by record, alone or paired with the leaves of a
 * skeleton (the walk inspect, skeleton and unpack share).
 *
 * The file is mapped, so headers are parsed in place and npy data is
 * sliced, never copied.  A record's family comes from its magic: numpy's
 * for npy records, the compressed codec's own (docs/FORMAT.md) for
 * compressed ones.  npy headers give dtype, shape and size without reading
 * the data; so do compressed records around npy or float16, from their
 * header and the first bytes of their frame (compressed-header.c); others
 * are decoded by their codec with no template ("self-describing reads",
 * codec.h). */
#include "config.h"
/* LfNpyHeader: the CLI ships with the library it is built with. */
#define LEAFIO_UNSTABLE_API

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "cli-private.h"
#include "compressed-format.h"


struct _CliReader {
  char *filename;
  GMappedFile *mapped;
  GBytes *bytes;
  const guint8 *data;
  gsize size;
  guint64 offset;
  guint index;
  LfCodec *compressed;
  char *leaf_path;     /* named in errors when set */
  LfNode *last_leaf;   /* the record decoded to learn its size */
  guint64 last_offset; /* ... and its offset */
};

const char *
cli_family_name (CliFamily family)
{
  switch (family)
    {
    case CLI_FAMILY_NPY:
      return "npy";
    case CLI_FAMILY_COMPRESSED:
      return "compressed";
    case CLI_FAMILY_UNKNOWN:
    default:
      return "unknown";
    }
}

CliReader *
cli_reader_open (const char *filename, GError **error)
{
  g_return_val_if_fail (filename != NULL, NULL);

  int fd = g_open (filename, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", filename,
                   g_strerror (errsv));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: not a regular file", filename);
      close (fd);
      return NULL;
    }

  GMappedFile *mapped = NULL;
  if (st.st_size > 0)
    {
      g_autoptr (GError) map_error = NULL;
      mapped = g_mapped_file_new_from_fd (fd, FALSE, &map_error);
      if (mapped == NULL)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot map: %s", filename,
                       map_error->message);
          close (fd);
          return NULL;
        }
    }
  close (fd);

  CliReader *reader = g_new0 (CliReader, 1);
  reader->filename = g_strdup (filename);
  reader->mapped = mapped;
  reader->bytes = mapped != NULL ? g_mapped_file_get_bytes (mapped) : g_bytes_new (NULL, 0);
  reader->data = g_bytes_get_data (reader->bytes, &reader->size);
  return reader;
}

void
cli_reader_free (CliReader *reader)
{
  if (reader == NULL)
    return;
  lf_codec_unref (reader->compressed);
  lf_node_unref (reader->last_leaf);
  g_bytes_unref (reader->bytes);
  if (reader->mapped != NULL)
    g_mapped_file_unref (reader->mapped);
  g_free (reader->filename);
  g_free (reader->leaf_path);
  g_free (reader);
}

const char *
cli_reader_get_filename (CliReader *reader)
{
  return reader->filename;
}

guint64
cli_reader_get_size (CliReader *reader)
{
  return reader->size;
}

guint64
cli_reader_get_offset (CliReader *reader)
{
  return reader->offset;
}

guint
cli_reader_get_index (CliReader *reader)
{
  return reader->index;
}

gboolean
cli_reader_at_end (CliReader *reader)
{
  return reader->offset >= reader->size;
}

void
cli_reader_prefix_error (CliReader *reader, guint index, guint64 offset, GError **error)
{
  if (reader->leaf_path != NULL)
    g_prefix_error (error, "%s: record %u (offset %" G_GUINT64_FORMAT ") (%s): ",
                    reader->filename, index, offset,
                    reader->leaf_path[0] != '\0' ? reader->leaf_path : "root");
  else
    g_prefix_error (error, "%s: record %u (offset %" G_GUINT64_FORMAT "): ", reader->filename,
                    index, offset);
}

void
cli_reader_set_leaf_path (CliReader *reader, const char *path)
{
  g_free (reader->leaf_path);
  reader->leaf_path = g_strdup (path);
}

/* TRUE when the `available` bytes at `p` start with `magic` or, when fewer
 * than its length remain, are a prefix of it (a record cut short). */
static gboolean
starts_with_magic (const guint8 *p, gsize available, const char *magic, gsize magic_len)
{
  return memcmp (p, magic, MIN (available, magic_len)) == 0;
}

static CliFamily
identify (const guint8 *p, gsize available)
{
  if (starts_with_magic (p, available, LF_NPY_MAGIC, LF_NPY_MAGIC_LEN))
    return CLI_FAMILY_NPY;
  if (starts_with_magic (p, available, LF_ZSTD_RECORD_MAGIC, LF_ZSTD_RECORD_MAGIC_LEN))
    return CLI_FAMILY_COMPRESSED;
  return CLI_FAMILY_UNKNOWN;
}

static void
info_from_leaf (CliRecordInfo *info, LfNode *leaf)
{
  const gsize *shape;
  cli_leaf_get_type (leaf, &info->dtype, &info->ndim, &shape);
  if (info->ndim > 0)
    memcpy (info->shape, shape, info->ndim * sizeof (gsize));
}

/* Reads the record at `info->offset` (of a family without an npy header)
 * through its codec; fills `info` and returns the leaf.  Does not advance. */
static LfNode *
decode_with_codec (CliReader *reader, CliRecordInfo *info, GError **error)
{
  if (reader->compressed == NULL)
    {
      reader->compressed = lf_registry_resolve (lf_registry_get_default (), "compressed",
                                                error);
      if (reader->compressed == NULL)
        return NULL;
    }
  g_autoptr (GBytes) rest = g_bytes_new_from_bytes (reader->bytes, info->offset,
                                                    reader->size - info->offset);
  g_autoptr (LfStream) stream = lf_stream_new_for_bytes (rest);
  lf_stream_set_name (stream, reader->filename);
  g_autoptr (LfPath) path = lf_path_new ();
  lf_path_push_index (path, info->index);

  LfNode *leaf = lf_codec_deserialise (reader->compressed, stream, path, NULL, error);
  if (leaf == NULL)
    return NULL;
  LfNodeKind kind = lf_node_get_kind (leaf);
  if (kind != LF_NODE_ARRAY && kind != LF_NODE_SCALAR)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "the codec returned a %s, not an array", lf_node_kind_name (kind));
      lf_node_unref (leaf);
      return NULL;
    }
  info->size = lf_stream_tell (stream);
  info_from_leaf (info, leaf);
  return leaf;
}

/* Fills `info` for the record at the reader's offset; `leaf` (may be NULL)
 * receives the decoded leaf when decoding was needed to learn the size. */
static gboolean
describe (CliReader *reader, CliRecordInfo *info, LfNode **leaf, GError **error)
{
  const guint8 *p = reader->data + reader->offset;
  gsize available = reader->size - reader->offset;

  memset (info, 0, sizeof *info);
  info->index = reader->index;
  info->offset = reader->offset;
  info->family = identify (p, available);

  switch (info->family)
    {
    case CLI_FAMILY_NPY:
      {
        LfNpyHeader header;
        if (!lf_npy_header_parse (p, available, &header, error))
          return FALSE;
        info->dtype = header.dtype;
        info->ndim = header.ndim;
        memcpy (info->shape, header.shape, header.ndim * sizeof (gsize));
        gsize left = available - header.header_size;
        if (header.data_size > left)
          {
            g_autofree char *shape = lf_shape_to_string (header.ndim, header.shape);
            g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                         "%s %s: expected %" G_GSIZE_FORMAT " bytes of data, found %"
                         G_GSIZE_FORMAT, lf_dtype_name (header.dtype), shape,
                         header.data_size, left);
            return FALSE;
          }
        info->size = header.header_size + header.data_size;
        return TRUE;
      }
    case CLI_FAMILY_COMPRESSED:
      {
        /* Headers and the frame's first bytes, when they tell all. */
        gboolean need_decode;
        if (cli_compressed_describe (p, available, info, &need_decode, error))
          return TRUE;
        if (!need_decode)
          return FALSE;
        LfNode *decoded = decode_with_codec (reader, info, error);
        if (decoded == NULL)
          return FALSE;
        if (leaf != NULL)
          *leaf = decoded;
        else
          lf_node_unref (decoded);
        return TRUE;
      }
    case CLI_FAMILY_UNKNOWN:
    default:
      {
        info->size = available;
        g_autoptr (GString) start = g_string_new (NULL);
        for (gsize i = 0; i < MIN (available, 8); i++)
          g_string_append_printf (start, "%s%02x", i ? " " : "", p[i]);
        g_set_error (error, LF_ERROR, LF_ERROR_CORRUPT,
                     "not a record leafio knows (no npy or compressed magic; "
                     "starts with %s)", start->str);
        return FALSE;
      }
    }
}

gboolean
cli_reader_next_info (CliReader *reader, CliRecordInfo *info, GError **error)
{
  g_return_val_if_fail (!cli_reader_at_end (reader), FALSE);

  LfNode *leaf = NULL;
  if (!describe (reader, info, &leaf, error))
    {
      cli_reader_prefix_error (reader, reader->index, reader->offset, error);
      return FALSE;
    }
  /* Keep a leaf decoded on the way so cli_reader_decode need not redo it. */
  g_clear_pointer (&reader->last_leaf, lf_node_unref);
  reader->last_leaf = leaf;
  reader->last_offset = info->offset;
  reader->offset += info->size;
  reader->index++;
  return TRUE;
}

LfNode *
cli_reader_decode (CliReader *reader, const CliRecordInfo *info, GError **error)
{
  if (reader->last_leaf != NULL && reader->last_offset == info->offset)
    return lf_node_ref (reader->last_leaf);
  if (info->family == CLI_FAMILY_COMPRESSED)
    {
      CliRecordInfo decoded_info = *info;
      LfNode *leaf = decode_with_codec (reader, &decoded_info, error);
      if (leaf == NULL)
        cli_reader_prefix_error (reader, info->index, info->offset, error);
      return leaf;
    }

  /* npy: read exactly the record's bytes, so a bad header cannot make the
   * reader look past it. */
  g_autoptr (GBytes) record = cli_reader_get_record_bytes (reader, info);
  g_autoptr (LfStream) stream = lf_stream_new_for_bytes (record);
  lf_stream_set_name (stream, reader->filename);
  LfNode *leaf = lf_npy_read (stream, error);
  if (leaf == NULL)
    cli_reader_prefix_error (reader, info->index, info->offset, error);
  return leaf;
}

LfNode *
cli_reader_next_leaf (CliReader *reader, CliRecordInfo *info, GError **error)
{
  if (!cli_reader_next_info (reader, info, error))
    return NULL;
  return cli_reader_decode (reader, info, error);
}

typedef struct {
  CliReader *reader;
  LfCodec *codec;
  CliMatchFunc func;
  gpointer user_data;
  GError *error;
} Match;

static gboolean
shape_matches (LfNode *leaf, const CliRecordInfo *info)
{
  LfDType dtype;
  guint ndim;
  const gsize *shape;
  cli_leaf_get_type (leaf, &dtype, &ndim, &shape);
  return ndim == info->ndim &&
         (ndim == 0 || memcmp (shape, info->shape, ndim * sizeof (gsize)) == 0);
}

static gboolean
match_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Match *self = user_data;
  CliReader *reader = self->reader;
  g_autofree char *path_text = lf_path_to_string (path);

  if (!lf_codec_handles (self->codec, leaf))
    return self->func (path, path_text, leaf, NULL, self->user_data, &self->error);

  cli_reader_set_leaf_path (reader, path_text);
  if (cli_reader_at_end (reader))
    {
      g_set_error (&self->error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "the file ends before this leaf of the skeleton");
      cli_reader_prefix_error (reader, reader->index, reader->offset, &self->error);
      return FALSE;
    }
  CliRecordInfo info;
  if (!cli_reader_next_info (reader, &info, &self->error))
    return FALSE;
  LfNodeKind kind = lf_node_get_kind (leaf);
  if ((kind == LF_NODE_ARRAY || kind == LF_NODE_SCALAR) && !shape_matches (leaf, &info))
    {
      g_autofree char *want = cli_leaf_describe (leaf);
      g_autofree char *found = lf_shape_to_string (info.ndim, info.shape);
      g_set_error (&self->error, LF_ERROR, LF_ERROR_MISMATCH,
                   "the skeleton says %s, the record holds %s %s", want,
                   lf_dtype_name (info.dtype), found);
      cli_reader_prefix_error (reader, info.index, info.offset, &self->error);
      return FALSE;
    }
  return self->func (path, path_text, leaf, &info, self->user_data, &self->error);
}

/* Pairs the leaves of `like` with the records that follow, as a load with
 * `codec` would (cli_reader_walk). */
static gboolean
match_skeleton (CliReader *reader, LfNode *like, LfCodec *codec, CliMatchFunc func,
                gpointer user_data, GError **error)
{
  Match self = { reader, codec, func, user_data, NULL };

  lf_tree_foreach_leaf (like, NULL, NULL, match_leaf, &self);
  cli_reader_set_leaf_path (reader, NULL);
  if (self.error != NULL)
    {
      g_propagate_error (error, self.error);
      return FALSE;
    }
  if (!cli_reader_at_end (reader))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRAILING_DATA,
                   "%" G_GUINT64_FORMAT " bytes left after the skeleton's last leaf",
                   reader->size - reader->offset);
      cli_reader_prefix_error (reader, reader->index, reader->offset, error);
      return FALSE;
    }
  return TRUE;
}

void
cli_skeleton_add_options (CliSkeleton *skeleton, GOptionContext *context, const char *like_help)
{
  const GOptionEntry entries[] = {
    { "like", 'l', 0, G_OPTION_ARG_FILENAME, &skeleton->like_file, like_help,
      "SKELETON.json" },
    { "spec", 's', 0, G_OPTION_ARG_STRING, &skeleton->spec_text,
      "With --like: the codec the file was saved with, which decides the leaves "
      "without a record (default npy)", "CODEC" },
    { NULL }
  };
  g_option_context_add_main_entries (context, entries, NULL);
}

gboolean
cli_skeleton_load (CliSkeleton *skeleton, GError **error)
{
  if (skeleton->like_file == NULL)
    return TRUE;
  skeleton->like = lf_tree_from_json_file (skeleton->like_file, error);
  if (skeleton->like == NULL)
    return FALSE;
  skeleton->codec = lf_registry_resolve (lf_registry_get_default (),
                                         skeleton->spec_text != NULL ? skeleton->spec_text
                                                                     : "npy",
                                         error);
  return skeleton->codec != NULL;
}

void
cli_skeleton_clear (CliSkeleton *skeleton)
{
  g_clear_pointer (&skeleton->like_file, g_free);
  g_clear_pointer (&skeleton->spec_text, g_free);
  g_clear_pointer (&skeleton->like, lf_node_unref);
  g_clear_pointer (&skeleton->codec, lf_codec_unref);
}

typedef struct {
  CliReader *reader;
  CliProgress *progress;
  CliMatchFunc func;
  gpointer user_data;
} Walk;

static gboolean
walk_step (const LfPath *path, const char *path_text, LfNode *leaf, const CliRecordInfo *info,
           gpointer user_data, GError **error)
{
  Walk *walk = user_data;
  if (!walk->func (path, path_text, leaf, info, walk->user_data, error))
    return FALSE;
  cli_progress_update (walk->progress, walk->reader->offset);
  return TRUE;
}

gboolean
cli_reader_walk (CliReader *reader, const CliSkeleton *skeleton, const char *label,
                 CliMatchFunc func, CliUnknownFunc unknown_func, gpointer user_data,
                 GError **error)
{
  g_autoptr (CliProgress) progress = cli_progress_new (label, reader->size);
  Walk walk = { reader, progress, func, user_data };
  if (skeleton != NULL && skeleton->like != NULL)
    return match_skeleton (reader, skeleton->like, skeleton->codec, walk_step, &walk, error);

  while (!cli_reader_at_end (reader))
    {
      CliRecordInfo info;
      if (!cli_reader_next_info (reader, &info, error))
        {
          if (unknown_func != NULL && info.family == CLI_FAMILY_UNKNOWN)
            unknown_func (&info, user_data);
          return FALSE;
        }
      if (!walk_step (NULL, NULL, NULL, &info, &walk, error))
        return FALSE;
    }
  return TRUE;
}

GBytes *
cli_reader_get_record_bytes (CliReader *reader, const CliRecordInfo *info)
{
  g_return_val_if_fail (info->offset + info->size <= reader->size, NULL);
  return g_bytes_new_from_bytes (reader->bytes, info->offset, info->size);
}
