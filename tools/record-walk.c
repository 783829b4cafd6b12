/* A file's records one after another, or paired with the leaves of a
 * skeleton as a load pairs them (the walk inspect, skeleton, unpack and
 * convert share).  The pairing is the library's own traversal,
 * lf_spec_foreach_leaf: each leaf with the codec the spec gives it, and a
 * record only where that codec writes one. */
#include "config.h"

#include "cli-private.h"

void
cli_skeleton_add_options (CliSkeleton *skeleton, GOptionContext *context, const char *like_help)
{
  const GOptionEntry entries[] = {
    { "like", 'l', 0, G_OPTION_ARG_FILENAME, &skeleton->like_file, like_help,
      "SKELETON.json" },
    { "spec", 's', 0, G_OPTION_ARG_STRING, &skeleton->spec_text,
      "The spec the file was saved with.  With --like: a codec reference, JSON spec tree or "
      "@FILE, which decides each leaf's codec (default " LF_CODEC_DEFAULT "); without: the "
      "codec every record is read with (default: each record's is recognised)", "SPEC" },
    { NULL }
  };
  g_option_context_add_main_entries (context, entries, NULL);
}

LfCodec *
cli_codec_for_reading (const char *option, const char *text, GError **error)
{
  g_autoptr (LfSpec) spec = cli_spec_load (text, NULL, error);
  if (spec == NULL)
    {
      g_prefix_error (error, "%s: ", option);
      return NULL;
    }
  LfCodec *codec = lf_spec_get_codec (spec);
  if (codec == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_SPEC, "%s: without --like, records are read "
                   "with one codec: a spec tree or rules need a skeleton", option);
      return NULL;
    }
  return lf_codec_ref (codec);
}

gboolean
cli_skeleton_load (CliSkeleton *skeleton, CliReader *reader, GError **error)
{
  if (skeleton->like_file == NULL)
    {
      if (skeleton->spec_text == NULL)
        return TRUE;
      g_autoptr (LfCodec) codec = cli_codec_for_reading ("--spec", skeleton->spec_text, error);
      if (codec == NULL)
        return FALSE;
      cli_reader_set_codec (reader, codec);
      return TRUE;
    }
  skeleton->like = cli_load_skeleton_file ("--like", skeleton->like_file, error);
  if (skeleton->like == NULL)
    return FALSE;
  skeleton->spec = cli_spec_load (skeleton->spec_text, NULL, error);
  if (skeleton->spec == NULL)
    g_prefix_error (error, "--spec: ");
  return skeleton->spec != NULL;
}

void
cli_skeleton_clear (CliSkeleton *skeleton)
{
  g_clear_pointer (&skeleton->like_file, g_free);
  g_clear_pointer (&skeleton->spec_text, g_free);
  g_clear_pointer (&skeleton->like, lf_node_unref);
  g_clear_pointer (&skeleton->spec, lf_spec_unref);
}

typedef struct {
  CliReader *reader;
  CliProgress *progress;
  gboolean spec_given;   /* records are described by their leaf's codec */
  CliMatchFunc func;
  gpointer user_data;
} Walk;

static gboolean
step (Walk *walk, const LfPath *path, const char *path_text, LfNode *leaf,
      const CliRecordInfo *info, GError **error)
{
  if (!walk->func (path, path_text, leaf, info, walk->user_data, error))
    return FALSE;
  cli_progress_update (walk->progress, cli_reader_get_offset (walk->reader));
  return TRUE;
}

static gboolean
match_leaf (const LfPath *path, LfNode *leaf, LfCodec *codec, gpointer user_data,
            GError **error)
{
  Walk *walk = user_data;
  CliReader *reader = walk->reader;
  g_autofree char *path_text = lf_path_to_string (path);

  if (!lf_codec_handles (codec, leaf))
    return step (walk, path, path_text, leaf, NULL, error);
  cli_reader_set_leaf_path (reader, path_text);
  if (cli_reader_at_end (reader))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "the file ends before this leaf of the skeleton");
      cli_reader_prefix_error (reader, cli_reader_get_index (reader),
                               cli_reader_get_offset (reader), error);
      return FALSE;
    }
  CliRecordInfo info;
  if (!cli_reader_next_info_for_leaf (reader, walk->spec_given ? codec : NULL, leaf, path,
                                      &info, error))
    return FALSE;
  return step (walk, path, path_text, leaf, &info, error);
}

static gboolean
walk_skeleton (Walk *walk, const CliSkeleton *skeleton, GError **error)
{
  CliReader *reader = walk->reader;
  gboolean ok = lf_spec_foreach_leaf (skeleton->spec, skeleton->like, NULL, NULL, match_leaf,
                                      walk, error);
  cli_reader_set_leaf_path (reader, NULL);
  if (ok && !cli_reader_at_end (reader))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRAILING_DATA,
                   "%" G_GUINT64_FORMAT " bytes left after the skeleton's last leaf",
                   cli_reader_get_size (reader) - cli_reader_get_offset (reader));
      cli_reader_prefix_error (reader, cli_reader_get_index (reader),
                               cli_reader_get_offset (reader), error);
      return FALSE;
    }
  return ok;
}

gboolean
cli_reader_walk (CliReader *reader, const CliSkeleton *skeleton, const char *label,
                 CliMatchFunc func, CliUnknownFunc unknown_func, gpointer user_data,
                 GError **error)
{
  g_autoptr (CliProgress) progress = cli_progress_new (label, cli_reader_get_size (reader));
  Walk walk = { reader, progress, FALSE, func, user_data };
  if (skeleton != NULL && skeleton->like != NULL)
    {
      walk.spec_given = skeleton->spec_text != NULL;
      return walk_skeleton (&walk, skeleton, error);
    }

  while (!cli_reader_at_end (reader))
    {
      CliRecordInfo info;
      if (!cli_reader_next_info (reader, &info, error))
        {
          if (unknown_func != NULL && info.codec == NULL)
            unknown_func (&info, user_data);
          return FALSE;
        }
      if (!step (&walk, NULL, NULL, NULL, &info, error))
        return FALSE;
    }
  return TRUE;
}

/* The record's leaf in a records skeleton: an abstract array of the dtype
 * and shape its codec describes. */
static gboolean
add_abstract_leaf (const LfPath *path, const char *path_text, LfNode *leaf,
                   const CliRecordInfo *info, gpointer user_data, GError **error)
{
  const LfRecordInfo *record = info->record;
  g_ptr_array_add (user_data, lf_array_new_abstract (lf_record_info_get_dtype (record),
                                                     lf_record_info_get_ndim (record),
                                                     lf_record_info_get_shape (record)));
  return TRUE;
}

LfNode *
cli_records_skeleton_prefix (CliReader *reader, const char *label, GError **broken)
{
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  cli_reader_walk (reader, NULL, label, add_abstract_leaf, NULL, leaves, broken);
  return lf_list_new (leaves->len, (LfNode *const *) leaves->pdata);
}

LfNode *
cli_records_skeleton (CliReader *reader, const char *label, GError **error)
{
  GError *broken = NULL;
  g_autoptr (LfNode) records = cli_records_skeleton_prefix (reader, label, &broken);
  if (broken != NULL)
    {
      g_propagate_error (error, broken);
      return NULL;
    }
  return g_steal_pointer (&records);
}
