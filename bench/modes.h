/* The modes of leafio-bench beyond the plain save and load: each runs on
 * a workload's tree and prints report lines (report.h). */
#pragma once

#include <leafio/leafio.h>
#include "workload.h"

typedef struct {
  const char *name;       /* the workload's name */
  const char *stream;     /* DATADIR/NAME.eqx: numpy's stream */
  Workload *workload;
  int reps;
  gboolean borrowed;      /* async-save: leaves borrow their memory */
  gboolean verify;        /* check what was saved or read */
} BenchRun;

/* `reps` times: lf_checkpoint_manager_save_async of the workload's tree into
 * a manager over `directory` (made; its steps are removed after each rep,
 * untimed), timing the call ("async-save") and the call plus the wait, the
 * step durable ("async-durable"); "-borrowed" when the leaves borrow their
 * memory, which is then also copied with memcpy into a buffer touched
 * before, in the same process, before each save ("memcpy-leaves").  The last step's data must be numpy's stream byte for byte; with
 * verify, borrowed buffers are overwritten as soon as the call returns,
 * which must not change the file.  0 or 1 (with a message on stderr). */
int bench_async_save (const BenchRun *run, const char *directory);

/* `reps` times on `file` (written with a manifest): lf_file_open with the
 * manifest ("open-manifest") and by describing each record ("open-scan"),
 * lf_file_read of the leaf whose record holds the file's middle byte
 * ("read-leaf") and a pread of that record's bytes into a buffer read
 * before ("pread-leaf").  With verify, the leaf read must equal the
 * stream's bytes.  0 or 1. */
int bench_random_access (const BenchRun *run, const char *file);
