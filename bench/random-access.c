/* leafio-bench open: random access to one leaf of a file (lf_file_open,
 * lf_file_read) against reading that leaf's bytes with pread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <leafio/leafio.h>
#include "modes.h"
#include "report.h"

static int
failed (const char *what, GError *error)
{
  fprintf (stderr, "leafio-bench: %s: %s\n", what, error != NULL ? error->message
                                                                  : g_strerror (errno));
  g_clear_error (&error);
  return 1;
}

/* The index of the record holding the file's middle byte. */
static gsize
middle_entry (LfFile *file, guint64 file_size)
{
  gsize n = lf_file_get_n_entries (file), i = 0;
  while (i + 1 < n && lf_file_get_entry (file, i + 1)->offset <= file_size / 2)
    i++;
  return i;
}

/* Whether the leaf read equals the stream's bytes of workload leaf `i`. */
static gboolean
same_as_stream (const BenchRun *run, guint i, LfNode *leaf)
{
  WorkloadLeaf *want = workload_get_leaf (run->workload, i);
  g_autofree guint8 *bytes = g_malloc (MAX (want->data_bytes, 1));
  int fd = open (run->stream, O_RDONLY | O_CLOEXEC);
  gboolean same = fd >= 0
                  && pread (fd, bytes, want->data_bytes, (off_t) want->data_offset)
                       == (ssize_t) want->data_bytes
                  && lf_node_get_kind (leaf) == LF_NODE_ARRAY
                  && lf_array_get_n_bytes (leaf) == want->data_bytes
                  && memcmp (lf_array_get_data (leaf), bytes, want->data_bytes) == 0;
  if (fd >= 0)
    close (fd);
  return same;
}

/* Reads the record's bytes into `buffer` with one pread, timed. */
static gboolean
pread_exact (int fd, guint8 *buffer, const LfFileEntry *entry, double *seconds)
{
  double t0 = bench_now ();
  ssize_t got = pread (fd, buffer, entry->size, (off_t) entry->offset);
  *seconds = bench_now () - t0;
  return got == (ssize_t) entry->size;
}

/* One rep: both opens, the leaf, its bytes. */
static int
time_once (const BenchRun *run, const char *path, LfNode *like, int fd, guint8 *buffer,
           int rep)
{
  GError *error = NULL;
  guint64 size = bench_file_size (path);
  guint n = workload_get_n_leaves (run->workload);
  double t0 = bench_now ();
  g_autoptr (LfFile) scanned = lf_file_open (path, like, NULL, LF_FILE_IGNORE_MANIFEST, &error);
  double t1 = bench_now ();
  if (scanned == NULL)
    return failed ("open by scanning", error);
  g_autoptr (LfFile) file = lf_file_open (path, like, NULL, LF_FILE_DEFAULT, &error);
  double t2 = bench_now ();
  if (file == NULL)
    return failed ("open with the manifest", error);
  if (!lf_file_is_indexed_from_manifest (file))
    return failed (path, g_error_new (LF_ERROR, LF_ERROR_FAILED, "has no usable manifest"));
  gsize i = middle_entry (file, size);
  const LfFileEntry *entry = lf_file_get_entry (file, i);
  /* Whichever runs second finds the record's page-cache pages in the CPU
   * cache: the order alternates from rep to rep. */
  double pread_time = 0;
  if (rep % 2 == 0 && !pread_exact (fd, buffer, entry, &pread_time))
    return failed ("pread", NULL);
  double t3 = bench_now ();
  g_autoptr (LfNode) leaf = lf_file_read (file, entry->path, &error);
  double t4 = bench_now ();
  if (leaf == NULL)
    return failed (entry->path, error);
  if (rep % 2 == 1 && !pread_exact (fd, buffer, entry, &pread_time))
    return failed ("pread", NULL);
  bench_report ("open-scan", run->name, t1 - t0, size, n, rep, run->reps);
  bench_report ("open-manifest", run->name, t2 - t1, size, n, rep, run->reps);
  bench_report ("read-leaf", run->name, t4 - t3, entry->size, 1, rep, run->reps);
  bench_report ("pread-leaf", run->name, pread_time, entry->size, 1, rep, run->reps);
  if (run->verify && rep == run->reps)
    {
      if (!same_as_stream (run, (guint) i, leaf))
        return failed (entry->path, g_error_new (LF_ERROR, LF_ERROR_FAILED,
                                                 "differs from the stream's bytes"));
      printf ("verify %s leaf %s ok (%" G_GUINT64_FORMAT " B at %" G_GUINT64_FORMAT ")\n",
              run->name, entry->path, entry->size, entry->offset);
    }
  return 0;
}

int
bench_random_access (const BenchRun *run, const char *path)
{
  GError *error = NULL;
  LfNode **leaves = workload_make_leaves (run->workload, run->stream, NULL, TRUE, &error);
  if (leaves == NULL)
    return failed ("workload", error);
  LfNode *like = workload_build_tree (run->workload, leaves);
  workload_free_leaves (run->workload, leaves);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  guint64 size = bench_file_size (path);
  /* Big enough for any record, read once so that its pages are touched. */
  guint8 *buffer = g_malloc (MAX (size, 1));
  int status = fd < 0 || pread (fd, buffer, size, 0) != (ssize_t) size
                   ? failed (path, NULL) : 0;
  for (int rep = 1; rep <= run->reps && status == 0; rep++)
    status = time_once (run, path, like, fd, buffer, rep);
  if (fd >= 0)
    close (fd);
  g_free (buffer);
  lf_node_unref (like);
  return status;
}
