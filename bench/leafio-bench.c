/* leafio-bench: times lf_tree_serialise_leaves / lf_tree_deserialise_leaves
 * on the workloads of ../shared/bench/make_trees.py, in the same terms as
 * numpy_peer.py (one line per rep, in-process timer, data built first).
 *
 *   leafio-bench save WORKLOAD DATADIR OUT [--reps N] [--codec REF] [--sync]
 *                [--manifest]
 *       Builds WORKLOAD's tree from DATADIR/WORKLOAD.json (paths, dtypes,
 *       shapes) with each leaf's data read from DATADIR/WORKLOAD.eqx into
 *       its own buffer (untimed), then REPS times: unlink OUT (untimed) and
 *       time lf_tree_serialise_leaves_full (temporary file + rename; no
 *       fsync unless --sync, as numpy and limits.c do not sync; --manifest
 *       writes OUT.json too).  With the
 *       default codec OUT must be byte-identical to the numpy stream: its
 *       SHA-256 is checked against the manifest after the last rep.
 *   leafio-bench load WORKLOAD DATADIR IN [--reps N] [--codec REF] [--mmap]
 *                [--verify]
 *       Times lf_tree_deserialise_leaves_full into an abstract `like` (dtype
 *       and shape only, as jax.ShapeDtypeStruct).  --mmap uses LF_LOAD_MMAP.
 *       --verify compares every loaded leaf with the manifest stream's bytes
 *       afterwards (untimed; only for lossless codecs).
 *
 *   leafio-bench async-save WORKLOAD DATADIR DIR [--reps N] [--borrowed]
 *                [--verify]
 *       Times lf_checkpoint_manager_save_async of the tree (owned leaves, or
 *       leaves borrowing the caller's memory) into a manager over DIR: the
 *       call ("async-save") and the call plus the wait ("async-durable").
 *       See modes.h.
 *   leafio-bench open WORKLOAD DATADIR FILE [--reps N] [--verify]
 *       Random access to FILE (saved with --manifest): both ways of
 *       lf_file_open, then one leaf from the middle against pread of its
 *       record.  See modes.h.
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
#include "modes.h"
#include "report.h"
#include "workload.h"

static G_NORETURN void
die (const char *what, GError *error)
{
  fprintf (stderr, "leafio-bench: %s: %s\n", what, error ? error->message : g_strerror (errno));
  exit (1);
}

typedef struct {
  char *codec;        /* GOption allocates it */
  gboolean sync, manifest, mmap_load;
} SaveLoadOptions;

/* OUT against numpy's stream, by SHA-256 (default codec only). */
static void
check_identical (const BenchRun *run, const char *file)
{
  GError *error = NULL;
  g_autofree char *sum = bench_file_sha256 (file, &error);
  if (sum == NULL)
    die ("check", error);
  if (strcmp (sum, run->workload->sha256) != 0)
    {
      fprintf (stderr, "leafio-bench: %s differs from numpy's stream (sha256 %s, want %s)\n",
               file, sum, run->workload->sha256);
      exit (1);
    }
  printf ("identical %s numpy stream sha256 %s\n", run->name, sum);
}

static void
verify_loaded (const BenchRun *run, LfNode *out)
{
  GError *error = NULL;
  guint n_differ = 0;
  if (!workload_verify (run->workload, run->stream, NULL, out, &n_differ, &error))
    die ("verify", error);
  if (n_differ > 0)
    {
      fprintf (stderr, "leafio-bench: %u of %u leaves differ\n", n_differ,
               workload_get_n_leaves (run->workload));
      exit (1);
    }
  printf ("verify %s ok\n", run->name);
}

static void
save_or_load (const BenchRun *run, gboolean saving, const char *file, const SaveLoadOptions *o)
{
  GError *error = NULL;
  guint n = workload_get_n_leaves (run->workload);
  g_autoptr (LfSpec) spec = NULL;
  if (o->codec != NULL && (spec = lf_spec_new_for_reference (NULL, o->codec, &error)) == NULL)
    die (o->codec, error);
  LfNode **leaves = workload_make_leaves (run->workload, run->stream, NULL, !saving, &error);
  if (leaves == NULL)
    die ("workload", error);
  LfNode *tree = workload_build_tree (run->workload, leaves);
  workload_free_leaves (run->workload, leaves);
  LfSaveFlags save_flags = (o->sync ? LF_SAVE_DEFAULT : LF_SAVE_NO_SYNC)
                           | (o->manifest ? LF_SAVE_MANIFEST : 0);

  LfNode *out = NULL;
  for (int rep = 1; rep <= run->reps; rep++)
    {
      if (saving)
        {
          if (unlink (file) != 0 && errno != ENOENT)
            die (file, NULL);
          double t0 = bench_now ();
          if (!lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL, save_flags, &error))
            die ("save", error);
          double t1 = bench_now ();
          bench_report ("save", run->name, t1 - t0, bench_file_size (file), n, rep, run->reps);
        }
      else
        {
          g_clear_pointer (&out, lf_node_unref);   /* drop the previous tree */
          double t0 = bench_now ();
          out = lf_tree_deserialise_leaves_full (file, tree, spec, NULL, NULL,
                                                 o->mmap_load ? LF_LOAD_MMAP : LF_LOAD_DEFAULT,
                                                 &error);
          double t1 = bench_now ();
          if (out == NULL)
            die ("load", error);
          bench_report (o->mmap_load ? "load-mmap" : "load", run->name, t1 - t0,
                        bench_file_size (file), n, rep, run->reps);
        }
    }
  bench_report_rss (saving ? "save" : "load", run->name, bench_peak_rss_mb ());
  if (saving && o->codec == NULL)
    check_identical (run, file);
  if (run->verify && out != NULL)
    verify_loaded (run, out);
  lf_node_unref (out);
  lf_node_unref (tree);
}

static const char *const modes[] = { "save", "load", "async-save", "open" };

static gboolean
known_mode (const char *mode)
{
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    if (strcmp (mode, modes[i]) == 0)
      return TRUE;
  return FALSE;
}

int
main (int argc, char **argv)
{
  BenchRun run = { .reps = 1 };
  SaveLoadOptions o = { NULL };
  GOptionEntry options[] = {
    { "reps", 0, 0, G_OPTION_ARG_INT, &run.reps, "repetitions", "N" },
    { "codec", 0, 0, G_OPTION_ARG_STRING, &o.codec, "codec reference", "REF" },
    { "sync", 0, 0, G_OPTION_ARG_NONE, &o.sync, "fsync before the rename", NULL },
    { "manifest", 0, 0, G_OPTION_ARG_NONE, &o.manifest, "save a manifest too", NULL },
    { "mmap", 0, 0, G_OPTION_ARG_NONE, &o.mmap_load, "load with LF_LOAD_MMAP", NULL },
    { "borrowed", 0, 0, G_OPTION_ARG_NONE, &run.borrowed, "leaves borrow their memory", NULL },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &run.verify, "compare loaded data", NULL },
    { NULL }
  };
  GError *error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("save|load|async-save|open WORKLOAD "
                                                         "DATADIR FILE");
  g_option_context_add_main_entries (ctx, options, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 5 || run.reps < 1
      || !known_mode (argv[1]))
    {
      fprintf (stderr, "usage: leafio-bench save|load|async-save|open WORKLOAD DATADIR FILE "
                       "[--reps N] [--codec REF] [--sync] [--manifest] [--mmap] [--borrowed] "
                       "[--verify]\n");
      return 2;
    }
  const char *mode = argv[1], *file = argv[4];
  run.name = argv[2];
  g_autofree char *json = g_strdup_printf ("%s/%s.json", argv[3], run.name);
  g_autofree char *stream = g_strdup_printf ("%s/%s.eqx", argv[3], run.name);
  run.stream = stream;
  run.workload = workload_load (json, &error);
  if (run.workload == NULL)
    die ("workload", error);

  int status = 0;
  if (strcmp (mode, "async-save") == 0)
    status = bench_async_save (&run, file);
  else if (strcmp (mode, "open") == 0)
    status = bench_random_access (&run, file);
  else
    save_or_load (&run, strcmp (mode, "save") == 0, file, &o);
  workload_free (run.workload);
  g_free (o.codec);
  return status;
}
