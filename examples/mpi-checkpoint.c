/* mpi-checkpoint: one checkpoint from many processes.
 *
 *   mpirun -np 4 mpi-checkpoint OUT        collective save, then load back
 *   mpi-checkpoint --serial OUT            the same tree in one process
 *   options: --megabytes N (default 50), --no-sync (skip the fsync before
 *   the rename, to time the writing without the disk's flush)
 *
 * The tree is a small transformer-like model whose big matrices are sharded
 * along their first axis (as tensor-parallel training holds them: each rank
 * has a block of rows) while norms, biases and the step counter are
 * replicated on every rank (data-parallel style) and written by one rank
 * each.  Every value is a function of the leaf and the element's global
 * index, so any number of ranks builds the same tree, and the collective
 * file is byte for byte the serial one.  Then every rank loads its own rows
 * back and checks them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <leafio/leafio-mpi.h>

#define WIDTH 256

static int rank, n_ranks;
static LfSaveFlags save_flags = LF_SAVE_DEFAULT;

/* Element `i` (global index) of leaf `id`. */
static float
value_at (guint id, gsize i)
{
  guint32 h = (guint32) (id * 2654435761u) ^ (guint32) (i * 40503u);
  h ^= h >> 15;
  return (float) (h & 0xffff) / 65536.0f - 0.5f;
}

typedef struct {
  gboolean serial;     /* the whole tree in this process */
  gboolean like;       /* abstract arrays (a `like` for loading) */
  LfMpiLayout *layout; /* shards are declared here (collective runs) */
  guint next_id;
  guint n_sharded, n_whole;
} Builder;

/* A float32 matrix sharded along axis 0 (or whole when serial). */
static LfNode *
sharded (Builder *b, const char *path, gsize rows, gsize cols)
{
  guint id = b->next_id++;
  b->n_sharded++;
  guint64 first = 0, n_rows = rows;
  if (!b->serial)
    {
      lf_mpi_even_rows (rows, rank, n_ranks, &first, &n_rows);
      g_autoptr (GError) error = NULL;
      if (!lf_mpi_layout_add_shard (b->layout, path, rows, first, &error))
        g_error ("%s", error->message);
    }
  gsize shape[2] = { n_rows, cols };
  if (b->like)
    return lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, shape);
  float *data = g_new (float, MAX (n_rows * cols, 1));
  for (gsize k = 0; k < n_rows * cols; k++)
    data[k] = value_at (id, first * cols + k);
  return lf_array_new_take (LF_DTYPE_FLOAT32, 2, shape, data);
}

/* A small float32 vector every rank holds in full. */
static LfNode *
replicated (Builder *b, gsize n)
{
  guint id = b->next_id++;
  b->n_whole++;
  if (b->like)
    return lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, &n);
  float *data = g_new (float, n);
  for (gsize k = 0; k < n; k++)
    data[k] = value_at (id, k);
  return lf_array_new_take (LF_DTYPE_FLOAT32, 1, &n, data);
}

/* About `megabytes` MB: a fifth in the embedding, the rest in layers of
 * attention and MLP matrices (2.8 MB each at WIDTH 256). */
static LfNode *
build_model (Builder *b, gsize megabytes)
{
  gsize bytes = megabytes * 1000 * 1000;
  gsize vocab = MAX (bytes / 5 / (WIDTH * sizeof (float)), 16);
  gsize layer_bytes = (gsize) WIDTH * WIDTH * 11 * sizeof (float);
  gsize n_layers = MAX ((bytes - bytes / 5 + layer_bytes / 2) / layer_bytes, 1);

  LfNode *embed = sharded (b, ".embed", vocab, WIDTH);
  LfNode **layers = g_new (LfNode *, n_layers);
  for (gsize i = 0; i < n_layers; i++)
    {
      g_autofree char *qkv = g_strdup_printf (".layers[%zu].qkv", i);
      g_autofree char *up = g_strdup_printf (".layers[%zu].up", i);
      g_autofree char *down = g_strdup_printf (".layers[%zu].down", i);
      LfNode *qkv_leaf = sharded (b, qkv, WIDTH, 3 * WIDTH);
      LfNode *norm = replicated (b, WIDTH);
      LfNode *up_leaf = sharded (b, up, WIDTH, 4 * WIDTH);
      LfNode *up_bias = replicated (b, 4 * WIDTH);
      LfNode *down_leaf = sharded (b, down, 4 * WIDTH, WIDTH);
      layers[i] = lf_struct_new_take ("Block", "qkv", qkv_leaf, "norm", norm, "up", up_leaf,
                                      "up_bias", up_bias, "down", down_leaf, NULL);
    }
  LfNode *layer_list = lf_list_new (n_layers, layers);
  for (gsize i = 0; i < n_layers; i++)
    lf_node_unref (layers[i]);
  g_free (layers);
  LfNode *final_norm = replicated (b, WIDTH);
  b->n_whole++;
  return lf_struct_new_take ("Transformer", "embed", embed, "layers", layer_list,
                             "final_norm", final_norm, "step", lf_scalar_new_int (1000),
                             NULL);
}

/* Checks every loaded leaf against the generator (blocks at their rows). */
typedef struct {
  Builder *b;
  guint id;
  gboolean ok;
} Checker;

static gboolean
check_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Checker *c = user_data;
  if (lf_node_get_kind (leaf) != LF_NODE_ARRAY)
    return TRUE;
  guint id = c->id++;
  g_autofree char *text = lf_path_to_string (path);
  const LfShard *shard = c->b->layout != NULL ? lf_mpi_layout_lookup_shard (c->b->layout, text)
                                              : NULL;
  gsize n = lf_array_get_n_elements (leaf);
  gsize row = lf_array_get_ndim (leaf) == 2 ? lf_array_get_shape (leaf)[1] : 0;
  gsize first = shard != NULL ? shard->row_offset * row : 0;
  const float *data = lf_array_get_data (leaf);
  for (gsize k = 0; k < n && c->ok; k++)
    c->ok = data[k] == value_at (id, first + k);
  return c->ok;
}

static double
now (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

static gsize
tree_bytes (LfNode *tree)
{
  g_autoptr (GPtrArray) leaves = lf_tree_get_leaves (tree, NULL, NULL);
  gsize total = 0;
  for (guint i = 0; i < leaves->len; i++)
    if (lf_node_get_kind (leaves->pdata[i]) == LF_NODE_ARRAY)
      total += lf_array_get_n_bytes (leaves->pdata[i]);
  return total;
}

static int
run_serial (const char *out, gsize megabytes)
{
  g_autoptr (GError) error = NULL;
  Builder b = { .serial = TRUE };
  g_autoptr (LfNode) tree = build_model (&b, megabytes);
  double start = now ();
  if (!lf_tree_serialise_leaves_full (out, tree, NULL, NULL, NULL, save_flags, &error))
    {
      fprintf (stderr, "mpi-checkpoint: %s\n", error->message);
      return 1;
    }
  double saved = now ();
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (out, tree, NULL, NULL, NULL, &error);
  double loaded = now ();
  if (back == NULL)
    {
      fprintf (stderr, "mpi-checkpoint: %s\n", error->message);
      return 1;
    }
  printf ("serial: %u leaves (%u would be sharded), %.1f MB\n", b.n_sharded + b.n_whole,
          b.n_sharded, tree_bytes (tree) / 1e6);
  g_autofree char *file = lf_path_with_eqx_suffix (out);
  printf ("saved %s in %.2f s, loaded it back in %.2f s\n", file, saved - start,
          loaded - saved);
  return lf_tree_equal (back, tree) ? 0 : 1;
}

static int
run_collective (const char *out, gsize megabytes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfMpiLayout) layout = lf_mpi_layout_new ();
  Builder b = { .layout = layout };
  g_autoptr (LfNode) tree = build_model (&b, megabytes);
  gsize mine = tree_bytes (tree);

  MPI_Barrier (MPI_COMM_WORLD);
  double start = now ();
  if (!lf_mpi_tree_serialise_leaves_full (MPI_COMM_WORLD, out, tree, NULL, NULL, NULL, layout,
                                          save_flags, &error))
    {
      fprintf (stderr, "mpi-checkpoint: %s\n", error->message);
      return 1;
    }
  double saved = now ();

  /* Load back: a `like` of abstract blocks, each rank reading its rows. */
  g_autoptr (LfMpiLayout) like_layout = lf_mpi_layout_new ();
  Builder lb = { .layout = like_layout, .like = TRUE };
  g_autoptr (LfNode) like = build_model (&lb, megabytes);
  MPI_Barrier (MPI_COMM_WORLD);
  double load_start = now ();
  g_autoptr (LfNode) back = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, out, like, NULL,
                                                            NULL, NULL, like_layout, &error);
  double loaded = now ();
  if (back == NULL)
    {
      fprintf (stderr, "mpi-checkpoint: %s\n", error->message);
      return 1;
    }
  Checker checker = { .b = &lb, .ok = TRUE };
  lf_tree_foreach_leaf (back, NULL, NULL, check_leaf, &checker);

  double times[2] = { saved - start, loaded - load_start }, slowest[2];
  MPI_Reduce (times, slowest, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  int ok = checker.ok, all_ok = 0;
  MPI_Allreduce (&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  g_autofree unsigned long *held = g_new (unsigned long, n_ranks);
  unsigned long mine_ul = mine;
  MPI_Gather (&mine_ul, 1, MPI_UNSIGNED_LONG, held, 1, MPI_UNSIGNED_LONG, 0, MPI_COMM_WORLD);
  if (rank == 0)
    {
      g_autofree char *file = lf_path_with_eqx_suffix (out);
      GStatBuf st = { 0 };
      g_stat (file, &st);
      printf ("%d ranks: %u leaves (%u sharded along axis 0, %u whole), file %.1f MB\n",
              n_ranks, b.n_sharded + b.n_whole, b.n_sharded, b.n_whole, st.st_size / 1e6);
      for (int r = 0; r < n_ranks; r++)
        printf ("  rank %d holds %.1f MB\n", r, held[r] / 1e6);
      printf ("saved %s collectively in %.2f s\n", file, slowest[0]);
      printf ("loaded it back in %.2f s: every rank read only its rows, values %s\n",
              slowest[1], all_ok ? "check out" : "DIFFER");
    }
  return all_ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
  gboolean serial = FALSE;
  gsize megabytes = 50;
  const char *out = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--serial") == 0)
        serial = TRUE;
      else if (strcmp (argv[i], "--no-sync") == 0)
        save_flags = LF_SAVE_NO_SYNC;
      else if (strcmp (argv[i], "--megabytes") == 0 && i + 1 < argc)
        {
          long value = atol (argv[++i]);
          megabytes = (gsize) MAX (value, 1);
        }
      else if (argv[i][0] != '-' && out == NULL)
        out = argv[i];
      else
        out = NULL, i = argc;
    }
  if (out == NULL)
    {
      fprintf (stderr, "usage: mpi-checkpoint [--serial] [--megabytes N] [--no-sync] OUT\n");
      return 2;
    }
  if (serial)
    return run_serial (out, megabytes);

  MPI_Init (&argc, &argv);
  MPI_Comm_rank (MPI_COMM_WORLD, &rank);
  MPI_Comm_size (MPI_COMM_WORLD, &n_ranks);
  int status = run_collective (out, megabytes);
  MPI_Finalize ();
  return status;
}
