/* LfMpiLayout: which leaves are sharded, and who owns the others. */
#include "config.h"
#include "mpi-private.h"

LfMpiLayout *
lf_mpi_layout_new (void)
{
  LfMpiLayout *layout = g_new0 (LfMpiLayout, 1);
  layout->shards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return layout;
}

void
lf_mpi_layout_free (LfMpiLayout *layout)
{
  if (layout == NULL)
    return;
  g_hash_table_unref (layout->shards);
  g_free (layout);
}

gboolean
lf_mpi_layout_add_shard (LfMpiLayout *layout, const char *path, guint64 global_rows,
                         guint64 row_offset, GError **error)
{
  g_return_val_if_fail (layout != NULL && path != NULL, FALSE);
  /* Stored in the form lf_path_to_string writes, so `.a['x']` and `.a["x"]`
   * name the same leaf. */
  g_autoptr (LfPath) parsed = lf_path_parse (path, error);
  if (parsed == NULL)
    return FALSE;
  char *key = lf_path_to_string (parsed);
  if (g_hash_table_contains (layout->shards, key))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_DUPLICATE_NAME,
                   "leaf '%s' already has a shard in this layout", *key ? key : "root");
      g_free (key);
      return FALSE;
    }
  LfShard *shard = g_new (LfShard, 1);
  shard->global_rows = global_rows;
  shard->row_offset = row_offset;
  g_hash_table_insert (layout->shards, key, shard);
  return TRUE;
}

const LfShard *
lf_mpi_layout_lookup_shard (const LfMpiLayout *layout, const char *path)
{
  g_return_val_if_fail (layout != NULL && path != NULL, NULL);
  return g_hash_table_lookup (layout->shards, path);
}

void
lf_mpi_layout_set_owner_func (LfMpiLayout *layout, LfMpiOwnerFunc func, gpointer user_data)
{
  g_return_if_fail (layout != NULL);
  layout->owner_func = func;
  layout->owner_data = user_data;
}

void
lf_mpi_even_rows (guint64 global_rows, int rank, int n_ranks, guint64 *row_offset,
                  guint64 *n_rows)
{
  g_return_if_fail (n_ranks > 0 && rank >= 0 && rank < n_ranks);
  /* 128-bit products: rows * rank may overflow 64 bits for absurd sizes. */
  guint64 start = (guint64) (((unsigned __int128) global_rows * (guint) rank) / (guint) n_ranks);
  guint64 end = (guint64) (((unsigned __int128) global_rows * (guint) (rank + 1)) / (guint) n_ranks);
  if (row_offset != NULL)
    *row_offset = start;
  if (n_rows != NULL)
    *n_rows = end - start;
}
