/* leafio-mpi-bench: times libleafio-mpi's collective save and load on the
 * workloads of ../shared/bench/make_trees.py, in leafio-bench's terms, so
 * that bench/run can set N ranks against one process.
 *
 *   mpirun -np N leafio-mpi-bench save WORKLOAD DATADIR OUT [--reps R] [--verify]
 *       Every rank builds WORKLOAD's tree from DATADIR/WORKLOAD.json holding
 *       only its block of each leaf's rows, read from DATADIR/WORKLOAD.eqx
 *       (untimed).  Then R times: rank 0 unlinks OUT (untimed), and the
 *       ranks time lf_mpi_tree_serialise_leaves_full with LF_SAVE_NO_SYNC
 *       (as leafio-bench saves: neither numpy nor the write(2) limit syncs).
 *       --verify: OUT's SHA-256 must be the numpy stream's (the manifest's)
 *       after the last rep.
 *   mpirun -np N leafio-mpi-bench load WORKLOAD DATADIR IN [--reps R] [--verify]
 *       Times lf_mpi_tree_deserialise_leaves into a `like` of abstract arrays,
 *       each rank's of its blocks' shapes, so that each rank reads only its
 *       rows.  --verify compares each rank's rows with the stream's bytes.
 *
 * Layout: every leaf with at least one axis is sharded along axis 0 with
 * lf_mpi_even_rows (rank r holds rows [r G / N, (r + 1) G / N) of G).  A
 * leaf with fewer rows than ranks is sharded too: the library accepts ranks
 * holding zero rows.  0-d leaves cannot be sharded: every rank holds them
 * whole, the library's default balance picks the rank that writes each, and
 * every rank loads them.
 *
 * Timing: a barrier, the call, then a barrier; a rep's time is the slowest
 * rank's (MPI_MAX).  Rank 0 prints leafio-bench's lines, then the peak
 * resident set of the fullest rank:
 *   save large 0.4012 s 1240.7 MB/s 148 leaves 497778176 B 2710.81 us/leaf rep 2/3
 *   rss save large 270.3 MB
 *   ranks 2 large: 148 leaves sharded, 0 whole; rank 0 holds 248.9 MB, rank 1 ...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <leafio/leafio-mpi.h>
#include "report.h"
#include "workload.h"

static int rank, n_ranks;

/* Collective: when any rank failed, the failing ranks say why and every
 * rank exits 1. */
static void
agree_or_exit (gboolean ok, const char *what, GError *error)
{
  int mine = ok, all = 0;
  MPI_Allreduce (&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (all)
    return;
  if (!ok)
    fprintf (stderr, "leafio-mpi-bench: rank %d: %s: %s\n", rank, what,
             error != NULL ? error->message : g_strerror (errno));
  MPI_Finalize ();
  exit (1);
}

/* A collective call failed: the library gives every rank the same error
 * (naming the failing rank), so rank 0 alone prints it. */
static G_NORETURN void
collective_failed (const char *what, GError *error)
{
  if (rank == 0)
    fprintf (stderr, "leafio-mpi-bench: %s: %s\n", what, error->message);
  MPI_Finalize ();
  exit (1);
}

/* This rank's even block of every leaf, declared in `layout`; NULL when
 * the layout refuses a path (a manifest naming a leaf twice). */
static WorkloadBlock *
shard_leaves (const Workload *w, LfMpiLayout *layout, guint *n_sharded, GError **error)
{
  guint n = workload_get_n_leaves (w);
  WorkloadBlock *blocks = g_new0 (WorkloadBlock, n);
  *n_sharded = 0;
  for (guint i = 0; i < n; i++)
    {
      WorkloadLeaf *leaf = workload_get_leaf (w, i);
      if (leaf->ndim == 0)
        continue;
      lf_mpi_even_rows (leaf->shape[0], rank, n_ranks, &blocks[i].first_row, &blocks[i].n_rows);
      if (!lf_mpi_layout_add_shard (layout, leaf->path_text, leaf->shape[0], blocks[i].first_row,
                                    error))
        {
          g_free (blocks);
          return NULL;
        }
      (*n_sharded)++;
    }
  return blocks;
}

static guint64
held_bytes (const Workload *w, const WorkloadBlock *blocks)
{
  guint64 total = 0;
  for (guint i = 0; i < workload_get_n_leaves (w); i++)
    {
      WorkloadLeaf *leaf = workload_get_leaf (w, i);
      total += leaf->ndim == 0 || leaf->shape[0] == 0
                   ? leaf->data_bytes
                   : leaf->data_bytes / leaf->shape[0] * blocks[i].n_rows;
    }
  return total;
}

/* Collective, after a timed call: waits for every rank, and gives rank 0
 * the slowest rank's time (the ranks started together at a barrier). */
static double
slowest (double seconds)
{
  MPI_Barrier (MPI_COMM_WORLD);
  double max = 0;
  MPI_Reduce (&seconds, &max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  return max;
}

static void
print_layout (const char *name, const Workload *w, const WorkloadBlock *blocks, guint n_sharded)
{
  unsigned long long mine = held_bytes (w, blocks);
  g_autofree unsigned long long *held = g_new0 (unsigned long long, n_ranks);
  MPI_Gather (&mine, 1, MPI_UNSIGNED_LONG_LONG, held, 1, MPI_UNSIGNED_LONG_LONG, 0,
              MPI_COMM_WORLD);
  if (rank != 0)
    return;
  g_autoptr (GString) line = g_string_new (NULL);
  g_string_printf (line, "ranks %d %s: %u leaves sharded, %u whole;", n_ranks, name, n_sharded,
                   workload_get_n_leaves (w) - n_sharded);
  for (int r = 0; r < n_ranks; r++)
    g_string_append_printf (line, "%s rank %d holds %.1f MB", r ? "," : "", r, held[r] / 1e6);
  printf ("%s\n", line->str);
}

int
main (int argc, char **argv)
{
  MPI_Init (&argc, &argv);
  MPI_Comm_rank (MPI_COMM_WORLD, &rank);
  MPI_Comm_size (MPI_COMM_WORLD, &n_ranks);

  int reps = 1;
  gboolean verify = FALSE;
  GOptionEntry options[] = {
    { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "repetitions", "R" },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &verify, "check the file or the loaded rows", NULL },
    { NULL }
  };
  GError *error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("save|load WORKLOAD DATADIR FILE");
  g_option_context_add_main_entries (ctx, options, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 5 || reps < 1
      || (strcmp (argv[1], "save") != 0 && strcmp (argv[1], "load") != 0))
    {
      /* Every rank parsed the same arguments: all stop here. */
      if (rank == 0)
        fprintf (stderr, "usage: mpirun -np N leafio-mpi-bench save|load WORKLOAD DATADIR FILE "
                         "[--reps R] [--verify]\n");
      g_clear_error (&error);
      MPI_Finalize ();
      return 2;
    }
  gboolean saving = strcmp (argv[1], "save") == 0;
  const char *name = argv[2], *file = argv[4];
  g_autofree char *json = g_strdup_printf ("%s/%s.json", argv[3], name);
  g_autofree char *stream = g_strdup_printf ("%s/%s.eqx", argv[3], name);

  Workload *w = workload_load (json, &error);
  agree_or_exit (w != NULL, "workload", error);
  guint n = workload_get_n_leaves (w), n_sharded = 0;
  LfMpiLayout *layout = lf_mpi_layout_new ();
  WorkloadBlock *blocks = shard_leaves (w, layout, &n_sharded, &error);
  agree_or_exit (blocks != NULL, json, error);
  LfNode **leaves = workload_make_leaves (w, stream, blocks, !saving, &error);
  agree_or_exit (leaves != NULL, "workload", error);
  LfNode *tree = workload_build_tree (w, leaves);
  workload_free_leaves (w, leaves);

  LfNode *out = NULL;
  for (int rep = 1; rep <= reps; rep++)
    {
      double t0, t1;
      if (saving)
        {
          gboolean gone = rank != 0 || unlink (file) == 0 || errno == ENOENT;
          agree_or_exit (gone, file, NULL);
          MPI_Barrier (MPI_COMM_WORLD);
          t0 = bench_now ();
          if (!lf_mpi_tree_serialise_leaves_full (MPI_COMM_WORLD, file, tree, NULL, NULL, NULL,
                                                  layout, LF_SAVE_NO_SYNC, &error))
            collective_failed ("save", error);
          t1 = bench_now ();
        }
      else
        {
          g_clear_pointer (&out, lf_node_unref);   /* drop the previous tree */
          MPI_Barrier (MPI_COMM_WORLD);
          t0 = bench_now ();
          out = lf_mpi_tree_deserialise_leaves (MPI_COMM_WORLD, file, tree, NULL, NULL, NULL,
                                                layout, &error);
          t1 = bench_now ();
          if (out == NULL)
            collective_failed ("load", error);
        }
      double seconds = slowest (t1 - t0);
      if (rank == 0)
        bench_report (saving ? "save" : "load", name, seconds, bench_file_size (file), n, rep,
                      reps);
    }
  double rss = bench_peak_rss_mb (), max_rss = 0;
  MPI_Reduce (&rss, &max_rss, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  if (rank == 0)
    bench_report_rss (saving ? "save" : "load", name, max_rss);
  print_layout (name, w, blocks, n_sharded);

  int status = 0;
  if (verify && saving && rank == 0)
    {
      g_autofree char *sum = bench_file_sha256 (file, &error);
      if (sum == NULL || strcmp (sum, w->sha256) != 0)
        {
          fprintf (stderr, "leafio-mpi-bench: %s differs from numpy's stream (sha256 %s, want "
                   "%s)\n", file, sum != NULL ? sum : error->message, w->sha256);
          g_clear_error (&error);
          status = 1;
        }
      else
        printf ("identical %s numpy stream sha256 %s (%d ranks)\n", name, sum, n_ranks);
    }
  if (verify && !saving)
    {
      guint n_differ = 0;
      gboolean read = workload_verify (w, stream, blocks, out, &n_differ, &error);
      agree_or_exit (read, "verify", error);
      unsigned int mine = n_differ, all = 0;
      MPI_Reduce (&mine, &all, 1, MPI_UNSIGNED, MPI_SUM, 0, MPI_COMM_WORLD);
      if (rank == 0 && all > 0)
        {
          fprintf (stderr, "leafio-mpi-bench: %u leaf blocks differ from the stream's rows\n",
                   all);
          status = 1;
        }
      else if (rank == 0)
        printf ("verify %s ok (%d ranks, each its rows)\n", name, n_ranks);
    }
  MPI_Bcast (&status, 1, MPI_INT, 0, MPI_COMM_WORLD);

  lf_node_unref (out);
  lf_node_unref (tree);
  g_free (blocks);
  lf_mpi_layout_free (layout);
  workload_free (w);
  MPI_Finalize ();
  return status;
}
