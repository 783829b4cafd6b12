/* leafio-bench: times lf_tree_serialise_leaves / lf_tree_deserialise_leaves
 * on the workloads of ../shared/bench/make_trees.py, in the same terms as
 * numpy_peer.py (one line per rep, in-process timer, data built first).
 *
 *   leafio-bench save WORKLOAD DATADIR OUT [--reps N] [--codec REF] [--sync]
 *       Builds WORKLOAD's tree from DATADIR/WORKLOAD.json (paths, dtypes,
 *       shapes) with each leaf's data read from DATADIR/WORKLOAD.eqx into
 *       its own buffer (untimed), then REPS times: unlink OUT (untimed) and
 *       time lf_tree_serialise_leaves_full (temporary file + rename; no
 *       fsync unless --sync, as numpy and limits.c do not sync).  With the
 *       default codec OUT must be byte-identical to the numpy stream: its
 *       SHA-256 is checked against the manifest after the last rep.
 *   leafio-bench load WORKLOAD DATADIR IN [--reps N] [--codec REF] [--mmap]
 *                [--verify]
 *       Times lf_tree_deserialise_leaves_full into an abstract `like` (dtype
 *       and shape only, as jax.ShapeDtypeStruct).  --mmap uses LF_LOAD_MMAP.
 *       --verify compares every loaded leaf with the manifest stream's bytes
 *       afterwards (untimed; only for lossless codecs).
 *
 * Output, one line per rep:
 *   save large 0.1712 s 2907.5 MB/s 148 leaves 497778176 B 1156.76 us/leaf rep 2/5
 * then "rss save large 512.3 MB" (peak resident set of the process). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <leafio/leafio.h>
#include "report.h"
#include "workload.h"

static G_NORETURN void
die (const char *what, GError *error)
{
  fprintf (stderr, "leafio-bench: %s: %s\n", what, error ? error->message : g_strerror (errno));
  exit (1);
}

int
main (int argc, char **argv)
{
  int reps = 1;
  g_autofree char *codec = NULL;   /* GOption allocates it */
  gboolean sync = FALSE, mmap_load = FALSE, verify = FALSE;
  GOptionEntry options[] = {
    { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "repetitions", "N" },
    { "codec", 0, 0, G_OPTION_ARG_STRING, &codec, "codec reference", "REF" },
    { "sync", 0, 0, G_OPTION_ARG_NONE, &sync, "fsync before the rename", NULL },
    { "mmap", 0, 0, G_OPTION_ARG_NONE, &mmap_load, "load with LF_LOAD_MMAP", NULL },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &verify, "compare loaded data", NULL },
    { NULL }
  };
  GError *error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("save|load WORKLOAD DATADIR FILE");
  g_option_context_add_main_entries (ctx, options, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 5 || reps < 1
      || (strcmp (argv[1], "save") != 0 && strcmp (argv[1], "load") != 0))
    {
      fprintf (stderr, "usage: leafio-bench save|load WORKLOAD DATADIR FILE [--reps N] "
                       "[--codec REF] [--sync] [--mmap] [--verify]\n");
      return 2;
    }
  gboolean saving = strcmp (argv[1], "save") == 0;
  const char *name = argv[2], *file = argv[4];
  g_autofree char *json = g_strdup_printf ("%s/%s.json", argv[3], name);
  g_autofree char *stream = g_strdup_printf ("%s/%s.eqx", argv[3], name);

  Workload *w = workload_load (json, &error);
  if (w == NULL)
    die ("workload", error);
  guint n = workload_get_n_leaves (w);
  g_autoptr (LfSpec) spec = NULL;
  if (codec != NULL && (spec = lf_spec_new_for_reference (NULL, codec, &error)) == NULL)
    die (codec, error);
  LfNode **leaves = workload_make_leaves (w, stream, NULL, !saving, &error);
  if (leaves == NULL)
    die ("workload", error);
  LfNode *tree = workload_build_tree (w, leaves);
  workload_free_leaves (w, leaves);

  LfNode *out = NULL;
  for (int rep = 1; rep <= reps; rep++)
    {
      if (saving)
        {
          if (unlink (file) != 0 && errno != ENOENT)
            die (file, NULL);
          double t0 = bench_now ();
          if (!lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL,
                                              sync ? LF_SAVE_DEFAULT : LF_SAVE_NO_SYNC, &error))
            die ("save", error);
          double t1 = bench_now ();
          bench_report ("save", name, t1 - t0, bench_file_size (file), n, rep, reps);
        }
      else
        {
          g_clear_pointer (&out, lf_node_unref);   /* drop the previous tree */
          double t0 = bench_now ();
          out = lf_tree_deserialise_leaves_full (file, tree, spec, NULL, NULL,
                                                 mmap_load ? LF_LOAD_MMAP : LF_LOAD_DEFAULT,
                                                 &error);
          double t1 = bench_now ();
          if (out == NULL)
            die ("load", error);
          bench_report (mmap_load ? "load-mmap" : "load", name, t1 - t0, bench_file_size (file),
                        n, rep, reps);
        }
    }
  bench_report_rss (saving ? "save" : "load", name, bench_peak_rss_mb ());

  if (saving && codec == NULL)
    {
      g_autofree char *sum = bench_file_sha256 (file, &error);
      if (sum == NULL)
        die ("check", error);
      if (strcmp (sum, w->sha256) != 0)
        {
          fprintf (stderr, "leafio-bench: %s differs from numpy's stream (sha256 %s, want %s)\n",
                   file, sum, w->sha256);
          return 1;
        }
      printf ("identical %s numpy stream sha256 %s\n", name, sum);
    }
  if (verify && out != NULL)
    {
      guint n_differ = 0;
      if (!workload_verify (w, stream, NULL, out, &n_differ, &error))
        die ("verify", error);
      if (n_differ > 0)
        {
          fprintf (stderr, "leafio-bench: %u of %u leaves differ\n", n_differ, n);
          return 1;
        }
      printf ("verify %s ok\n", name);
    }
  lf_node_unref (out);
  lf_node_unref (tree);
  workload_free (w);
  return 0;
}
