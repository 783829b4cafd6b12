/* The walker: visits the leaves of a tree with the codec the spec gives each,
 * writing records on save and reading them on load.  Save, load and
 * lf_spec_foreach_leaf run the one traversal of core/tree
 * (traverse-private.h), with the spec tree as its guide, and ask the same
 * codec the same question (handles) about the same position, so a leaf
 * skipped on save is skipped on load and never shifts the records after
 * it. */
#include "config.h"
#include <string.h>
#include "encode-ahead-private.h"
#include "spec-private.h"
#include "stream-private.h"
#include "traverse-private.h"
#include "walk-private.h"

typedef struct {
  LfTraversal traversal;  /* first: the traversal's callbacks get it */
  LfStream *stream;
  const LfSpec *spec;
  LfPath *path;           /* traversal.path */
  GString *path_text;     /* scratch for rules and the log */
  guint n_records;
  GArray *log;
  LfSpecLeafFunc visit;   /* lf_spec_foreach_leaf: pair leaves with codecs, no I/O */
  gpointer visit_data;
  LfEncodeAhead *ahead;   /* saves: small leaves encoded on a pool, made on first use */
  gboolean ahead_tried;
  LfRecordInfo *info;     /* loads: scratch for describing each record */
  LfWalkChecks *checks;   /* loads: what each record must be (nullable) */
  GError **error;
} Walk;

/* Array leaves below this size may be encoded ahead (see codec.h). */
#define AHEAD_MAX_BYTES ((gsize) 2 << 20)

void
_lf_walk_record_clear (gpointer data)
{
  LfWalkRecord *record = data;
  g_clear_pointer (&record->path, g_free);
  g_clear_pointer (&record->leaf, lf_node_unref);
  g_clear_pointer (&record->codec, lf_codec_unref);
}

static const char *
current_path_text (Walk *w)
{
  g_string_truncate (w->path_text, 0);
  lf_path_append_to (w->path, w->path_text);
  return w->path_text->str;
}

/* Prefixes `local` with the stream, record and leaf path, and hands it on. */
static void
fail_at_record_path (Walk *w, guint64 offset, const char *path, GError *local)
{
  g_propagate_prefixed_error (w->error, local, "%s: record %u at offset %" G_GUINT64_FORMAT
                              " (%s): ", lf_stream_get_name (w->stream), w->n_records,
                              offset, *path ? path : "root");
}

static void
fail_at_record (Walk *w, guint64 offset, GError *local)
{
  fail_at_record_path (w, offset, current_path_text (w), local);
}

/* A save with a log hashes each record as it is written (the manifest's
 * checksums): between record_begin and record_end. */
static void
record_begin (Walk *w)
{
  if (w->log != NULL)
    _lf_stream_hash_begin (w->stream);
}

static gboolean
record_end (Walk *w, guint64 *hash)
{
  return w->log != NULL && _lf_stream_hash_end (w->stream, hash);
}

static void
log_leaf_path (Walk *w, const char *path, LfNode *leaf, LfCodec *codec, gboolean has_record,
               guint64 offset, gboolean hashed, guint64 hash)
{
  if (w->log == NULL)
    return;
  LfWalkRecord record = {
    .path = g_strdup (path),
    .leaf = lf_node_ref (leaf),
    .codec = lf_codec_ref (codec),
    .has_record = has_record,
    .offset = offset,
    .size = has_record ? lf_stream_tell (w->stream) - offset : 0,
    .hashed = hashed,
    .xxh3 = hash,
  };
  g_array_append_val (w->log, record);
}

static void
log_leaf (Walk *w, LfNode *leaf, LfCodec *codec, gboolean has_record, guint64 offset)
{
  if (w->log != NULL)
    log_leaf_path (w, current_path_text (w), leaf, codec, has_record, offset, FALSE, 0);
}

static void
log_saved_leaf (Walk *w, LfNode *leaf, LfCodec *codec, guint64 offset, gboolean hashed,
                guint64 hash)
{
  if (w->log != NULL)
    log_leaf_path (w, current_path_text (w), leaf, codec, TRUE, offset, hashed, hash);
}

/* ---- leaves ------------------------------------------------------------------ */

/* Writes the oldest leaf encoded ahead. */
static gboolean
write_encoded (Walk *w)
{
  LfEncodedRecord *r = _lf_encode_ahead_pop (w->ahead);
  guint64 offset = lf_stream_tell (w->stream);
  GError *local = NULL;
  record_begin (w);
  gboolean ok = r->error == NULL
                && lf_stream_write (w->stream, g_bytes_get_data (r->bytes, NULL),
                                    g_bytes_get_size (r->bytes), &local);
  guint64 hash = 0;
  gboolean hashed = record_end (w, &hash);
  /* The path's text only when someone reads it. */
  g_autofree char *path = ok && w->log == NULL ? NULL : lf_path_to_string (r->path);
  if (ok)
    {
      log_leaf_path (w, path, r->leaf, r->codec, TRUE, offset, hashed, hash);
      w->n_records++;
    }
  else
    fail_at_record_path (w, offset, path, local != NULL ? local : g_steal_pointer (&r->error));
  _lf_encoded_record_free (r);
  return ok;
}

/* Writes leaves encoded ahead: all of them, or until there is room. */
static gboolean
write_ahead (Walk *w, gboolean all)
{
  while (!_lf_encode_ahead_is_empty (w->ahead) && (all || _lf_encode_ahead_is_full (w->ahead)))
    if (!write_encoded (w))
      return FALSE;
  return TRUE;
}

/* Whether `leaf` goes to the pool: a small array (or a scalar) the codec
 * writes a record for (the caller checked the codec asks for it). */
static gboolean
encode_ahead (Walk *w, LfNode *leaf, LfCodec *codec)
{
  LfNodeKind kind = lf_node_get_kind (leaf);
  if (kind == LF_NODE_ARRAY
      ? lf_array_is_abstract (leaf) || lf_array_get_n_bytes (leaf) >= AHEAD_MAX_BYTES
      : kind != LF_NODE_SCALAR)
    return FALSE;
  if (!w->ahead_tried)
    {
      w->ahead_tried = TRUE;
      w->ahead = _lf_encode_ahead_new ();
    }
  if (w->ahead == NULL || !lf_codec_handles (codec, leaf))
    return FALSE;
  _lf_encode_ahead_push (w->ahead, codec, w->path, leaf,
                         kind == LF_NODE_ARRAY ? lf_array_get_n_bytes (leaf) : 8);
  return TRUE;
}

static gboolean
save_leaf (Walk *w, LfNode *leaf, LfCodec *codec)
{
  if ((lf_codec_get_class (codec)->flags & LF_CODEC_PARALLEL_SMALL_LEAVES)
      && encode_ahead (w, leaf, codec))
    return write_ahead (w, FALSE);
  /* Everything queued goes first: records stay in tree order. */
  if (w->ahead != NULL && !write_ahead (w, TRUE))
    return FALSE;
  guint64 offset = lf_stream_tell (w->stream);
  if (!lf_codec_handles (codec, leaf))
    {
      log_leaf (w, leaf, codec, FALSE, offset);
      return TRUE;
    }
  GError *local = NULL;
  record_begin (w);
  gboolean ok = lf_codec_serialise (codec, w->stream, w->path, leaf, &local);
  guint64 hash = 0;
  gboolean hashed = record_end (w, &hash);
  if (!ok)
    {
      fail_at_record (w, offset, local);
      return FALSE;
    }
  log_saved_leaf (w, leaf, codec, offset, hashed, hash);
  w->n_records++;
  return TRUE;
}

/* A record whose codec can describe it is checked against `like` before
 * the codec allocates or decompresses anything: a wrong `like`, or a small
 * file that claims a huge array, costs a header's worth of reading.
 * Codecs that make the same check themselves first (npy) are not asked
 * twice. */
static gboolean
check_before_decoding (Walk *w, LfNode *like, LfCodec *codec, GError **error)
{
  if ((lf_codec_get_class (codec)->flags & LF_CODEC_CHECKS_LIKE) || !lf_codec_can_describe (codec))
    return TRUE;
  if (w->info == NULL)
    w->info = lf_record_info_new ();
  return lf_codec_describe (codec, w->stream, like, w->info, error)
         && lf_record_info_check_like (w->info, like, 0, error);
}

/* A checked load hashes each record as the codec reads it. */
static void
load_record_begin (Walk *w)
{
  if (w->checks != NULL)
    _lf_stream_hash_begin (w->stream);
}

/* Whether the record just read from `offset` is the one the manifest
 * lists next, byte for byte. */
static gboolean
load_record_end (Walk *w, guint64 offset)
{
  LfWalkChecks *checks = w->checks;
  if (checks == NULL)
    return TRUE;
  guint64 hash = 0;
  gboolean hashed = _lf_stream_hash_end (w->stream, &hash);
  const LfRecordCheck *want = w->n_records < checks->n_records
                              ? &checks->records[w->n_records] : NULL;
  if (hashed && want != NULL && want->offset == offset
      && want->size == lf_stream_tell (w->stream) - offset && want->xxh3 == hash)
    return TRUE;
  checks->failed = TRUE;
  GError *local = g_error_new (LF_ERROR, LF_ERROR_CHECKSUM,
                               "the record's bytes are not those the manifest lists");
  fail_at_record (w, offset, local);
  return FALSE;
}

static gboolean
load_leaf (Walk *w, LfNode *like, LfCodec *codec, LfNode **out)
{
  guint64 offset = lf_stream_tell (w->stream);
  if (!lf_codec_handles (codec, like))
    {
      /* Kept as `like` has it; an abstract array would hand back a leaf
       * without data (Equinox raises too). */
      if (lf_node_get_kind (like) == LF_NODE_ARRAY && lf_array_is_abstract (like))
        {
          const char *path = current_path_text (w);
          g_set_error (w->error, LF_ERROR, LF_ERROR_SPEC,
                       "%s: %s: like's leaf is abstract (shape and dtype only) and the spec "
                       "(%s) does not load it, so the loaded tree would hold no data for it",
                       lf_stream_get_name (w->stream), *path ? path : "root",
                       lf_codec_get_name (codec));
          return FALSE;
        }
      log_leaf (w, like, codec, FALSE, offset);
      *out = lf_node_ref (like);
      return TRUE;
    }
  GError *local = NULL;
  if (!check_before_decoding (w, like, codec, &local))
    {
      fail_at_record (w, offset, local);
      return FALSE;
    }
  load_record_begin (w);
  g_autoptr (LfNode) loaded = lf_codec_deserialise (codec, w->stream, w->path, like, &local);
  LfNode *fitted = loaded != NULL ? lf_codec_fit_to_like (like, loaded, &local) : NULL;
  if (fitted == NULL)
    {
      fail_at_record (w, offset, local);
      return FALSE;
    }
  if (!load_record_end (w, offset))
    {
      lf_node_unref (fitted);
      return FALSE;
    }
  log_leaf (w, fitted, codec, TRUE, offset);
  w->n_records++;
  *out = fitted;
  return TRUE;
}

/* ---- pairing leaves with codecs ------------------------------------------------- */

/* The codec of the leaf at the walker's path: the spec tree's codec leaf
 * that covers it, the spec's one codec, or what the rules choose. */
static LfCodec *
codec_for_leaf (Walk *w, const LfNode *guide)
{
  if (guide != NULL)
    return lf_spec_leaf_get_codec (guide);
  if (w->spec->codec != NULL)
    return w->spec->codec;
  return w->spec->rules_select (w->spec->rules, current_path_text (w));
}

static gboolean
save_leaf_at (LfTraversal *t, LfNode *leaf, const LfNode *guide, LfNode **out)
{
  Walk *w = (Walk *) t;
  return save_leaf (w, leaf, codec_for_leaf (w, guide));
}

static gboolean
load_leaf_at (LfTraversal *t, LfNode *like, const LfNode *guide, LfNode **out)
{
  Walk *w = (Walk *) t;
  return load_leaf (w, like, codec_for_leaf (w, guide), out);
}

static gboolean
visit_leaf_at (LfTraversal *t, LfNode *leaf, const LfNode *guide, LfNode **out)
{
  Walk *w = (Walk *) t;
  return w->visit (t->path, leaf, codec_for_leaf (w, guide), w->visit_data, w->error);
}

/* A spec-tree container must equal the data container at the same place:
 * same kind, length, keys or fields (and struct type). */
static gboolean
spec_matches (LfTraversal *t, LfNode *node, const LfNode *spec_node)
{
  Walk *w = (Walk *) t;
  gboolean leaf = _lf_traversal_is_leaf (t, node);
  if (!leaf && lf_container_same_layout (spec_node, node))
    return TRUE;
  g_autofree char *want = _lf_node_describe (spec_node, TRUE);
  g_autofree char *got = NULL;
  if (leaf)
    {
      const char *kind = lf_node_kind_name (lf_node_get_kind (node));
      got = g_strdup_printf ("%s %s leaf", strchr ("aeiou", kind[0]) ? "an" : "a", kind);
    }
  else
    got = _lf_node_describe (node, TRUE);
  const char *path = current_path_text (w);
  g_set_error (w->error, LF_ERROR, LF_ERROR_SPEC,
               "filter spec is not a prefix of the tree at '%s': spec has %s, tree has %s",
               *path ? path : "root", want, got);
  return FALSE;
}

/* ---- one walk ------------------------------------------------------------------- */

/* Runs the traversal for `w`, whose leaf callback the caller chose; with
 * `out`, builds the loaded tree. */
static gboolean
walk (Walk *w, LfNode *tree, LfSpec *spec, LfIsLeafFunc is_leaf, gpointer is_leaf_data,
      LfNode **out)
{
  g_autoptr (LfSpec) default_spec = NULL;
  if (spec == NULL)
    {
      spec = default_spec = lf_spec_new_for_reference (NULL, LF_CODEC_DEFAULT, w->error);
      if (spec == NULL)
        return FALSE;
    }
  w->spec = spec;
  w->path = lf_path_new ();
  w->path_text = g_string_new (NULL);
  w->traversal.is_leaf = is_leaf;
  w->traversal.is_leaf_data = is_leaf_data;
  w->traversal.match = spec_matches;
  w->traversal.path = w->path;
  gboolean ok = _lf_traverse (&w->traversal, tree,
                              spec->kind == LF_SPEC_TREE ? spec->tree : NULL, out);
  ok = ok && write_ahead (w, TRUE);
  _lf_encode_ahead_free (w->ahead);
  lf_record_info_free (w->info);
  lf_path_free (w->path);
  g_string_free (w->path_text, TRUE);
  return ok;
}

gboolean
lf_spec_foreach_leaf (LfSpec *spec, LfNode *tree, LfIsLeafFunc is_leaf,
                      gpointer is_leaf_data, LfSpecLeafFunc func, gpointer user_data,
                      GError **error)
{
  g_return_val_if_fail (tree != NULL && func != NULL, FALSE);
  Walk w = {
    .traversal.leaf = visit_leaf_at,
    .visit = func,
    .visit_data = user_data,
    .error = error,
  };
  return walk (&w, tree, spec, is_leaf, is_leaf_data, NULL);
}

gboolean
_lf_walk_save (LfStream *stream, LfNode *tree, LfSpec *spec, LfIsLeafFunc is_leaf,
               gpointer is_leaf_data, GArray *log, GError **error)
{
  Walk w = {
    .traversal.leaf = save_leaf_at,
    .stream = stream,
    .log = log,
    .error = error,
  };
  return walk (&w, tree, spec, is_leaf, is_leaf_data, NULL);
}

/* A load; on failure *failed_record is the index of the record being read. */
static LfNode *
walk_load (LfStream *stream, LfNode *like, LfSpec *spec, LfIsLeafFunc is_leaf,
           gpointer is_leaf_data, GArray *log, LfWalkChecks *checks, guint *failed_record,
           GError **error)
{
  Walk w = {
    .traversal.leaf = load_leaf_at,
    .stream = stream,
    .log = log,
    .checks = checks,
    .error = error,
  };
  LfNode *out = NULL;
  if (walk (&w, like, spec, is_leaf, is_leaf_data, &out))
    {
      if (checks == NULL || w.n_records == checks->n_records)
        return out;
      checks->failed = TRUE;
      g_set_error (error, LF_ERROR, LF_ERROR_CHECKSUM,
                   "%s: %u records read, the manifest lists %u", lf_stream_get_name (stream),
                   w.n_records, checks->n_records);
      lf_node_unref (out);
    }
  *failed_record = w.n_records;
  return NULL;
}

LfNode *
_lf_walk_load (LfStream *stream, LfNode *like, LfSpec *spec, LfIsLeafFunc is_leaf,
               gpointer is_leaf_data, GArray *log, GError **error)
{
  guint failed_record;
  return walk_load (stream, like, spec, is_leaf, is_leaf_data, log, NULL, &failed_record,
                    error);
}

LfNode *
_lf_walk_load_checked (LfStream *stream, LfNode *like, LfSpec *spec, LfIsLeafFunc is_leaf,
                       gpointer is_leaf_data, LfWalkChecks *checks, guint *failed_record,
                       GError **error)
{
  return walk_load (stream, like, spec, is_leaf, is_leaf_data, NULL, checks, failed_record,
                    error);
}
