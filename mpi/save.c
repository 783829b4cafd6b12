/* The collective save.  Steps, each ending in an agreement so that every
 * rank learns about any rank's failure before the next collective call:
 *   1. plan the leaves (codec, shard) and pick each whole leaf's owner;
 *      check every rank planned the same thing;
 *   2. gather sharded leaves whose codec needs the whole array;
 *   3. encode locally: owned leaves to whole records, row-wise sharded
 *      leaves to the record bytes of this rank's rows;
 *   4. exchange sizes (MPI_Allgather), compute every record's offset;
 *   5. write the pieces collectively into a temporary file, rename. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "mpi-private.h"

typedef enum {
  PIECE_NONE = 0,   /* this rank writes nothing for the leaf */
  PIECE_RECORD = 1, /* the whole record */
  PIECE_ROWS = 2,   /* the data of this rank's rows of a row-wise sharded leaf */
} PieceKind;

/* What one rank contributes to one leaf, as exchanged with the others. */
typedef struct {
  gint64 kind;         /* PieceKind */
  gint64 size;         /* bytes of the record, or of the rows' data */
  gint64 stored_dtype; /* PIECE_RECORD with an aligned header: the record's dtype */
  LfMpiBlock block;    /* PIECE_ROWS: the block in the record's dtype */
} Contribution;

typedef struct {
  int owner;           /* the rank encoding the whole record; -1 for row-wise shards */
  gboolean row_wise;   /* a sharded leaf whose codec splits by rows */
  gsize header_size;   /* a whole leaf's aligned header, as laid out */
  gboolean has_record; /* laid out: the leaf's record, on every rank */
  guint64 record_offset, record_size;
  LfNode *whole;       /* a gathered sharded leaf, on its owner */
  GBytes *head;        /* the record header before `bytes`, when formatted here */
  GBytes *bytes;       /* this rank's bytes for the leaf */
  GBytes *header;      /* rank 0: the record header of a row-wise shard */
} LeafState;

typedef struct {
  MPI_Comm comm;
  int rank, n_ranks;
  const char *target;
  LfMpiPlan *plan;
  const LfMpiLayout *layout;
  LeafState *states;
  Contribution *mine;  /* one per leaf */
} Save;

/* The bytes a leaf weighs when balancing owners; every rank computes the
 * same figure from dtype and shape alone. */
static guint64
leaf_weight (const LfMpiLeaf *leaf)
{
  LfNode *node = leaf->leaf;
  if (lf_node_get_kind (node) == LF_NODE_SCALAR)
    return lf_dtype_size (lf_scalar_get_dtype (node));
  if (lf_node_get_kind (node) != LF_NODE_ARRAY)
    return 0;
  if (leaf->shard == NULL || lf_array_get_ndim (node) == 0)
    return lf_array_get_n_bytes (node);
  gsize row = 0;
  lf_shape_n_bytes (lf_array_get_dtype (node), lf_array_get_ndim (node) - 1,
                    lf_array_get_shape (node) + 1, &row);
  return (guint64) row * leaf->shard->global_rows;
}

/* The kind and shape of `node`: every rank formats the aligned headers of
 * whole leaves from its own copy, so they must agree. */
static void
hash_record_type (guint64 *hash, LfNode *node)
{
  gint64 kind = lf_node_get_kind (node), dtype = LF_DTYPE_INVALID, ndim = 0;
  if (kind == LF_NODE_SCALAR)
    dtype = lf_scalar_get_dtype (node);
  else if (kind == LF_NODE_ARRAY)
    {
      dtype = lf_array_get_dtype (node);
      ndim = lf_array_get_ndim (node);
      _lf_mpi_hash (hash, lf_array_get_shape (node), (gsize) ndim * sizeof (gsize));
    }
  _lf_mpi_hash (hash, &kind, sizeof kind);
  _lf_mpi_hash (hash, &dtype, sizeof dtype);
  _lf_mpi_hash (hash, &ndim, sizeof ndim);
}

/* Step 1: owners, and a check that every rank planned the same records. */
static gboolean
assign_owners (Save *s, GError **error)
{
  GArray *leaves = s->plan->leaves;
  g_autofree guint64 *load = g_new0 (guint64, s->n_ranks);
  guint64 hash = LF_MPI_HASH_INIT;
  _lf_mpi_hash (&hash, &leaves->len, sizeof leaves->len);
  for (guint i = 0; i < leaves->len; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      LeafState *state = &s->states[i];
      state->row_wise = leaf->shard != NULL && leaf->kind.row_ranges;
      state->owner = -1;
      if (!state->row_wise)
        {
          if (s->layout != NULL && s->layout->owner_func != NULL)
            state->owner = s->layout->owner_func (leaf->path, leaf->leaf, s->n_ranks,
                                                  s->layout->owner_data);
          else
            {
              state->owner = 0;
              for (int r = 1; r < s->n_ranks; r++)
                if (load[r] < load[state->owner])
                  state->owner = r;
              load[state->owner] += leaf_weight (leaf);
            }
          if (state->owner < 0 || state->owner >= s->n_ranks)
            {
              g_set_error (error, LF_ERROR, LF_ERROR_FAILED,
                           "%s: the owner callback returned rank %d, expected 0 to %d",
                           _lf_mpi_leaf_name (leaf), state->owner, s->n_ranks - 1);
              return FALSE;
            }
        }
      if (leaf->kind.cannot_lay_out != NULL)
        {
          g_autofree char *codec = lf_codec_to_string (leaf->codec);
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       "%s: codec %s writes bytes that depend on the record's offset "
                       "(LF_CODEC_OFFSET_DEPENDENT) and lacks %s, which a collective save "
                       "needs to lay such records out; save this leaf serially or with "
                       "another codec", _lf_mpi_leaf_name (leaf), codec,
                       leaf->kind.cannot_lay_out);
          return FALSE;
        }
      if (leaf->kind.align != 0 && !state->row_wise)
        hash_record_type (&hash, leaf->leaf);
      g_autofree char *codec = lf_codec_to_string (leaf->codec);
      guint64 rows = leaf->shard != NULL ? leaf->shard->global_rows : G_MAXUINT64;
      _lf_mpi_hash (&hash, leaf->path_text, strlen (leaf->path_text) + 1);
      _lf_mpi_hash (&hash, codec, strlen (codec) + 1);
      _lf_mpi_hash (&hash, &state->owner, sizeof state->owner);
      _lf_mpi_hash (&hash, &rows, sizeof rows);
    }
  /* max(h) == min(h) on every rank, without a second reduction. */
  guint64 both[2] = { hash, ~hash }, max[2];
  MPI_Allreduce (both, max, 2, MPI_UINT64_T, MPI_MAX, s->comm);
  if (max[0] != hash || ~max[1] != hash)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH,
                   "the ranks' trees differ: not the same leaves, codecs, shards or owners "
                   "(%u leaves on rank %d)", leaves->len, s->rank);
      return FALSE;
    }
  return TRUE;
}

/* Step 2 (collective): sharded leaves whose codec needs the whole array. */
static gboolean
gather_whole_leaves (Save *s, GError **error)
{
  GArray *leaves = s->plan->leaves;
  for (guint i = 0; i < leaves->len; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      LeafState *state = &s->states[i];
      if (leaf->shard != NULL && !state->row_wise
          && !_lf_mpi_gather_leaf (s->comm, s->target, leaf, state->owner, &state->whole, error))
        return FALSE;
    }
  return TRUE;
}

/* The codec's data part is the array's memory (LF_CODEC_RAW_DATA): it is
 * written from there, without a copy. */
static gboolean
is_raw_array (const LfMpiLeaf *leaf, LfNode *node)
{
  return leaf->kind.raw_data && lf_node_get_kind (node) == LF_NODE_ARRAY
         && !lf_array_is_abstract (node);
}

/* The header of a record with `dtype` and `ndim`/`shape` at `offset`, as
 * laid out for the leaf's codec; NULL when it does not fit. */
static GBytes *
header_bytes (const LfMpiLeaf *leaf, LfDType dtype, guint ndim, const gsize *shape,
              guint64 offset)
{
  char buffer[LF_MPI_HEADER_MAX];
  gsize length = _lf_mpi_format_header (&leaf->kind, dtype, ndim, shape, offset, buffer);
  return length > 0 ? g_bytes_new (buffer, length) : NULL;
}

/* The same for `node`'s record (a scalar's is 0-d). */
static GBytes *
header_at (const LfMpiLeaf *leaf, LfNode *node, LfDType dtype, guint64 offset)
{
  gboolean array = lf_node_get_kind (node) == LF_NODE_ARRAY;
  return header_bytes (leaf, dtype, array ? lf_array_get_ndim (node) : 0,
                       array ? lf_array_get_shape (node) : NULL, offset);
}

static GBytes *
encode (const LfMpiLeaf *leaf, LfNode *node, GError **error)
{
  g_autoptr (LfStream) stream = lf_stream_new_memory ();
  GError *local = NULL;
  if (!lf_codec_serialise (leaf->codec, stream, leaf->path, node, &local))
    {
      g_propagate_prefixed_error (error, local, "%s: ", _lf_mpi_leaf_name (leaf));
      return NULL;
    }
  return lf_stream_steal_bytes (stream);
}

/* The data part of `node`'s record (a codec with LF_CODEC_ROW_RANGES),
 * and the dtype it is stored in: the array's memory when the codec writes
 * it raw, else what the codec writes after its header. */
static GBytes *
encode_data (const LfMpiLeaf *leaf, LfNode *node, LfDType *stored_dtype, GError **error)
{
  if (is_raw_array (leaf, node))
    {
      *stored_dtype = lf_array_get_dtype (node);
      return g_bytes_ref (lf_array_get_bytes (node));
    }
  g_autoptr (GBytes) record = encode (leaf, node, error);
  if (record == NULL)
    return NULL;
  return _lf_mpi_record_data (leaf, node, record, stored_dtype, error);
}

/* This rank's rows of a row-wise sharded leaf: the codec encodes the block
 * as an array of its own, and the data part of that record is exactly
 * these rows' part of the whole record (LF_CODEC_ROW_RANGES). */
static gboolean
encode_rows (const LfMpiLeaf *leaf, LeafState *state, Contribution *c, GError **error)
{
  LfMpiBlock local_block;
  if (!_lf_mpi_block_describe (leaf, LF_DTYPE_INVALID, TRUE, &local_block, error))
    return FALSE;
  if (!lf_codec_handles (leaf->codec, leaf->leaf))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "%s: codec %s writes no record for this sharded leaf",
                   _lf_mpi_leaf_name (leaf), lf_codec_get_name (leaf->codec));
      return FALSE;
    }
  LfDType stored = LF_DTYPE_INVALID;
  state->bytes = encode_data (leaf, leaf->leaf, &stored, error);
  if (state->bytes == NULL || !_lf_mpi_block_describe (leaf, stored, TRUE, &c->block, error))
    return FALSE;
  c->kind = PIECE_ROWS;
  c->size = (gint64) g_bytes_get_size (state->bytes);
  return TRUE;
}

/* A whole leaf's record on its owner: the data part alone when the header
 * is laid out at the record's offset later (aligned codecs), the header
 * formatted here and the array's memory (raw arrays), or the codec's
 * record as it writes it. */
static gboolean
encode_whole (const LfMpiLeaf *leaf, LfNode *node, LeafState *state, Contribution *c,
              GError **error)
{
  if (leaf->kind.align != 0)
    {
      LfDType stored = LF_DTYPE_INVALID;
      if ((state->bytes = encode_data (leaf, node, &stored, error)) == NULL)
        return FALSE;
      c->stored_dtype = stored;
    }
  else if (is_raw_array (leaf, node)
           && (state->head = header_at (leaf, node, lf_array_get_dtype (node), 0)) != NULL)
    state->bytes = g_bytes_ref (lf_array_get_bytes (node));
  else if ((state->bytes = encode (leaf, node, error)) == NULL)
    return FALSE;
  c->kind = PIECE_RECORD;
  c->size = (gint64) g_bytes_get_size (state->bytes);
  if (state->head != NULL)
    c->size += (gint64) g_bytes_get_size (state->head);
  return TRUE;
}

/* Step 3: everything this rank encodes. */
static gboolean
encode_local (Save *s, GError **error)
{
  GArray *leaves = s->plan->leaves;
  for (guint i = 0; i < leaves->len; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      LeafState *state = &s->states[i];
      if (state->row_wise)
        {
          if (!encode_rows (leaf, state, &s->mine[i], error))
            return FALSE;
          continue;
        }
      if (state->owner != s->rank)
        continue;
      LfNode *node = state->whole != NULL ? state->whole : leaf->leaf;
      if (!lf_codec_handles (leaf->codec, node))
        continue;
      if (lf_node_get_kind (node) == LF_NODE_ARRAY && lf_array_is_abstract (node))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       "%s: rank %d owns this leaf but holds an abstract array",
                       _lf_mpi_leaf_name (leaf), s->rank);
          return FALSE;
        }
      if (!encode_whole (leaf, node, state, &s->mine[i], error))
        return FALSE;
    }
  return TRUE;
}

/* The header of a row-wise shard's record: the global shape in the dtype
 * the ranks' blocks were encoded to. */
static GBytes *
format_global_header (const LfMpiLeaf *leaf, LfDType dtype, guint64 offset)
{
  guint ndim = lf_array_get_ndim (leaf->leaf);
  gsize shape[LF_MAX_NDIM];
  memcpy (shape, lf_array_get_shape (leaf->leaf), ndim * sizeof (gsize));
  shape[0] = leaf->shard->global_rows;
  return header_bytes (leaf, dtype, ndim, shape, offset);
}

/* An aligned whole leaf's header at `offset`: every rank formats it from
 * its own copy of the leaf (the same kind and shape everywhere, as step 1
 * checked) and the stored dtype the owner reported, to learn its length;
 * the owner keeps it to write. */
static gboolean
lay_out_aligned_header (Save *s, const LfMpiLeaf *leaf, LeafState *state,
                        const Contribution *c, guint64 offset, GError **error)
{
  g_autoptr (GBytes) header = header_at (leaf, leaf->leaf, (LfDType) c->stored_dtype, offset);
  if (header == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW, "%s: the record header is too long",
                   _lf_mpi_leaf_name (leaf));
      return FALSE;
    }
  state->header_size = g_bytes_get_size (header);
  if (state->owner == s->rank)
    state->head = g_steal_pointer (&header);
  return TRUE;
}

/* Step 4: every rank lays out every record from the exchanged table and
 * lists the pieces it writes. */
static gboolean
lay_out (Save *s, const Contribution *all, GArray *pieces, GError **error)
{
  GArray *leaves = s->plan->leaves;
  guint n = leaves->len;
  guint64 offset = 0;
  for (guint i = 0; i < n; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      LeafState *state = &s->states[i];
      const Contribution *mine = &s->mine[i];
      if (!state->row_wise)
        {
          const Contribution *c = &all[(gsize) state->owner * n + i];
          if (c->kind == PIECE_RECORD && leaf->kind.align != 0
              && !lay_out_aligned_header (s, leaf, state, c, offset, error))
            return FALSE;
          if (c->kind == PIECE_RECORD && state->owner == s->rank)
            {
              gsize head = state->head != NULL ? g_bytes_get_size (state->head) : 0;
              if (head > 0)
                {
                  LfMpiPiece piece = { offset, g_bytes_get_data (state->head, NULL), head };
                  g_array_append_val (pieces, piece);
                }
              LfMpiPiece piece = { offset + head, g_bytes_get_data (state->bytes, NULL),
                                   g_bytes_get_size (state->bytes) };
              g_array_append_val (pieces, piece);
            }
          state->has_record = c->kind == PIECE_RECORD;
          state->record_offset = offset;
          state->record_size = (guint64) c->size + state->header_size;
          offset += state->record_size;
          continue;
        }
      if (!_lf_mpi_blocks_check (leaf, &all[i].block, s->n_ranks, n * sizeof (Contribution),
                                 error))
        return FALSE;
      g_autoptr (GBytes) header = format_global_header (leaf, (LfDType) all[i].block.dtype,
                                                        offset);
      if (header == NULL)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_OVERFLOW,
                       "%s: the record header of the whole array is too long",
                       _lf_mpi_leaf_name (leaf));
          return FALSE;
        }
      guint64 data_start = offset + g_bytes_get_size (header);
      if (s->rank == 0)
        {
          state->header = g_bytes_ref (header);
          LfMpiPiece piece = { offset, g_bytes_get_data (header, NULL),
                               g_bytes_get_size (header) };
          g_array_append_val (pieces, piece);
        }
      if (mine->size > 0)
        {
          LfMpiPiece piece = {
            data_start + (guint64) mine->block.row_offset * (guint64) mine->block.row_bytes,
            g_bytes_get_data (state->bytes, NULL), (gsize) mine->size };
          g_array_append_val (pieces, piece);
        }
      state->has_record = TRUE;
      state->record_offset = offset;
      offset = data_start + (guint64) all[i].block.row_bytes * leaf->shard->global_rows;
      state->record_size = offset - state->record_offset;
    }
  return TRUE;
}

/* The value a scalar leaf was saved with, read back from the file (its
 * owner may be another rank). */
static LfNode *
read_back_scalar (const Save *s, const LfMpiLeaf *leaf, const LeafState *state, int fd,
                  GError **error)
{
  g_autofree guint8 *buffer = g_malloc (MAX (state->record_size, 1));
  if (!_lf_mpi_pread_all (fd, buffer, (gsize) state->record_size, state->record_offset,
                          s->target, error))
    return NULL;
  g_autoptr (LfStream) stream = lf_stream_new_for_data (buffer, (gsize) state->record_size);
  g_autoptr (LfNode) loaded = lf_codec_deserialise (leaf->codec, stream, leaf->path, leaf->leaf,
                                                    error);
  return loaded != NULL ? lf_codec_fit_to_like (leaf->leaf, loaded, error) : NULL;
}

/* Rank 0, once the file is in place and under the directory's lock: the
 * manifest a serial save of the gathered tree writes.  Its skeleton has sharded leaves at their global
 * shape and scalars as saved. */
typedef struct {
  Save *s;
  LfNode *tree;
  LfIsLeafFunc is_leaf;
  gpointer is_leaf_data;
} ManifestJob;

static gboolean
write_manifest (gpointer user_data, GError **error)
{
  ManifestJob *job = user_data;
  Save *s = job->s;
  LfNode *tree = job->tree;
  LfIsLeafFunc is_leaf = job->is_leaf;
  gpointer is_leaf_data = job->is_leaf_data;
  GArray *leaves = s->plan->leaves;
  guint n = leaves->len;
  g_autofree LfNode **replacements = g_new0 (LfNode *, MAX (n, 1));
  g_autofree LfManifestLeaf *entries = g_new0 (LfManifestLeaf, MAX (n, 1));
  int fd = open (s->target, O_RDONLY | O_CLOEXEC);
  gboolean ok = fd >= 0;
  if (!ok)
    g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", s->target,
                 g_strerror (errno));
  for (guint i = 0; ok && i < n; i++)
    {
      const LfMpiLeaf *leaf = &g_array_index (leaves, LfMpiLeaf, i);
      const LeafState *state = &s->states[i];
      if (leaf->shard != NULL)
        replacements[i] = _lf_mpi_global_like (leaf);
      else if (lf_node_get_kind (leaf->leaf) == LF_NODE_SCALAR && state->has_record)
        ok = (replacements[i] = read_back_scalar (s, leaf, state, fd, error)) != NULL;
      entries[i] = (LfManifestLeaf) {
        .path = leaf->path_text,
        .leaf = replacements[i] != NULL ? replacements[i] : leaf->leaf,
        .codec = leaf->codec,
        .has_record = state->has_record,
        .offset = state->record_offset,
        .size = state->record_size,
      };
    }
  if (fd >= 0)
    close (fd);
  if (ok)
    {
      g_autoptr (LfNode) saved = lf_tree_replace_leaves (tree, is_leaf, is_leaf_data,
                                                         replacements);
      ok = lf_manifest_write (s->target, saved, is_leaf, is_leaf_data, entries, n, error);
    }
  for (guint i = 0; i < n; i++)
    lf_node_unref (replacements[i]);
  return ok;
}

static void
free_states (LeafState *states, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      lf_node_unref (states[i].whole);
      if (states[i].bytes != NULL)
        g_bytes_unref (states[i].bytes);
      if (states[i].head != NULL)
        g_bytes_unref (states[i].head);
      if (states[i].header != NULL)
        g_bytes_unref (states[i].header);
    }
  g_free (states);
}

gboolean
lf_mpi_tree_serialise_leaves_full (MPI_Comm comm, const char *path, LfNode *tree,
                                   LfSpec *spec, LfIsLeafFunc is_leaf,
                                   gpointer is_leaf_data, const LfMpiLayout *layout,
                                   LfSaveFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL && tree != NULL, FALSE);
  g_autofree char *target = lf_path_with_eqx_suffix (path);
  Save s = { .comm = comm, .target = target, .layout = layout };
  MPI_Comm_rank (comm, &s.rank);
  MPI_Comm_size (comm, &s.n_ranks);

  GError *local = NULL;
  s.plan = lf_path_check_names_file (path, &local)
           ? _lf_mpi_plan_new (tree, spec, is_leaf, is_leaf_data, layout, &local) : NULL;
  if (!_lf_mpi_agree (comm, target, &local))
    goto failed;

  guint n = s.plan->leaves->len;
  s.states = g_new0 (LeafState, n);
  s.mine = g_new0 (Contribution, MAX (n, 1));
  assign_owners (&s, &local);
  if (!_lf_mpi_agree (comm, target, &local) || !gather_whole_leaves (&s, &local))
    goto failed;
  encode_local (&s, &local);
  if (!_lf_mpi_agree (comm, target, &local))
    goto failed;

  {
    g_autofree Contribution *all = g_new0 (Contribution, (gsize) n * s.n_ranks + 1);
    MPI_Allgather (s.mine, (int) (n * sizeof (Contribution)), MPI_BYTE, all,
                   (int) (n * sizeof (Contribution)), MPI_BYTE, comm);
    g_autoptr (GArray) pieces = g_array_new (FALSE, FALSE, sizeof (LfMpiPiece));
    /* Deterministic on every rank: the same table gives the same verdict. */
    lay_out (&s, all, pieces, &local);
    if (!_lf_mpi_agree (comm, target, &local))
      goto failed;
    ManifestJob job = { &s, tree, is_leaf, is_leaf_data };
    if (!_lf_mpi_write_file (comm, target, pieces, !(flags & LF_SAVE_NO_SYNC),
                             (flags & LF_SAVE_MANIFEST) ? write_manifest : NULL, &job, &local))
      goto failed;
  }
  free_states (s.states, n);
  g_free (s.mine);
  _lf_mpi_plan_free (s.plan);
  return TRUE;

failed:
  if (s.plan != NULL)
    free_states (s.states, s.plan->leaves->len);
  g_free (s.mine);
  _lf_mpi_plan_free (s.plan);
  g_propagate_error (error, local);
  return FALSE;
}

gboolean
lf_mpi_tree_serialise_leaves (MPI_Comm comm, const char *path, LfNode *tree, LfSpec *spec,
                              LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                              const LfMpiLayout *layout, GError **error)
{
  return lf_mpi_tree_serialise_leaves_full (comm, path, tree, spec, is_leaf, is_leaf_data,
                                            layout, LF_SAVE_DEFAULT, error);
}
