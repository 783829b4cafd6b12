/* The checkpoint manager (<leafio/checkpoint.h>), shared by manager.c (the
 * public calls and saving), async.c (saves on a thread), record.c (file
 * names and commit records), directory.c (the lock, reading the directory,
 * removing a step's files), retention.c (which steps to remove) and
 * group.c (managers shared by the ranks of a group, <leafio/unstable.h>). */
#pragma once

#include <leafio/leafio.h>

/* One committed step, as its commit record says. */
typedef struct {
  gint64 step;
  gint64 time;       /* microseconds since the Unix epoch */
  guint64 size;      /* bytes of the .eqx and its manifest */
  LfNode *metrics;   /* owned: a dict of scalars */
} LfStepRecord;

void _lf_step_record_clear (gpointer record);
/* The public description of `record`, a step of `directory` (listing.c). */
LfCheckpointStep *_lf_checkpoint_step_new (const char *directory, const LfStepRecord *record);

typedef struct {
  guint keep_last;       /* 0: off */
  guint64 keep_every;    /* 0: off */
  char *best_metric;     /* NULL: off */
  LfMetricGoal best_goal;
  guint keep_best;
} LfRetention;

struct _LfCheckpointManager {
  char *directory;
  int lock_fd;
  const LfCheckpointIO *io;
  gpointer io_data;
  GMutex mutex;          /* guards steps and retention against the save thread */
  GArray *steps;         /* LfStepRecord, by step */
  LfRetention retention;
  GThread *thread;       /* the asynchronous save in flight, or NULL */
  GError *async_error;   /* the failure of an asynchronous save nobody was told of */
  LfCheckpointGroup group;  /* agree NULL: a manager of one process */
  gpointer group_data;
};

/* ---- names and commit records (record.c) ------------------------------------- */

#define LF_CHECKPOINT_DATA ".eqx"
#define LF_CHECKPOINT_MANIFEST ".eqx.json"
#define LF_CHECKPOINT_RECORD ".meta.json"

/* DIR/step-00000100SUFFIX.  Free with g_free. */
char *_lf_checkpoint_file (const char *directory, gint64 step, const char *suffix);
/* Whether `name` is a file name the manager makes for a step: TRUE with
 * the step and which of the three suffixes (`*suffix`, a static string).
 * Only the canonical spelling counts (step-00000100.eqx, not step-100.eqx). */
gboolean _lf_checkpoint_parse_name (const char *name, gint64 *step, const char **suffix);
/* Whether `name` looks like the temporary file of a write of one of those
 * names (.step-00000100.eqx.leafio-tmp.Ab12Cd.0123abcd): TRUE with the
 * step and suffix of the file it was to replace. */
gboolean _lf_checkpoint_temporary_target (const char *name, gint64 *step,
                                          const char **suffix);

/* LF_ERROR_UNSUPPORTED unless `metrics` is NULL or a dict of bool, integer
 * or floating scalars. */
gboolean _lf_checkpoint_check_metrics (LfNode *metrics, GError **error);
/* Writes the commit record of `record->step`, atomically and durably:
 * "committed" with the time, size and metrics, or "pending" (only the
 * step).  LF_ERROR_IO naming the file. */
gboolean _lf_checkpoint_write_record (const char *directory, const LfStepRecord *record,
                                      gboolean committed, GError **error);
/* Reads a commit record into `record` (cleared by the caller);
 * `*committed` tells its state.  LF_ERROR_IO, or LF_ERROR_PARSE when it is
 * not a commit record of step `step`. */
gboolean _lf_checkpoint_read_record (const char *path, gint64 step, LfStepRecord *record,
                                     gboolean *committed, GError **error);
/* The committed steps (LfStepRecord) as rank 0 sends them to a group's
 * other ranks, and back (LF_ERROR_PARSE). */
GBytes *_lf_checkpoint_steps_to_bytes (GArray *steps);
GArray *_lf_checkpoint_steps_from_bytes (GBytes *bytes, GError **error);

/* ---- the directory (directory.c) ---------------------------------------------- */

/* Makes `directory` if needed and takes its lock: the lock file's fd, or
 * -1 with LF_ERROR_BUSY or LF_ERROR_IO. */
int _lf_checkpoint_lock (const char *directory, GError **error);
/* fsync()s the directory, so renames and removals in it are durable. */
gboolean _lf_checkpoint_sync_directory (const char *directory, GError **error);
/* Reads the steps of manager->directory into manager->steps, removing the
 * files of pending steps and temporary files.  LF_ERROR_IO. */
gboolean _lf_checkpoint_scan (LfCheckpointManager *manager, GError **error);
/* Removes step `step`'s data, manifest, then commit record (those that
 * exist).  LF_ERROR_IO naming the file that stays. */
gboolean _lf_checkpoint_remove_files (const char *directory, gint64 step, GError **error);

/* ---- retention (retention.c) ----------------------------------------------------- */

void _lf_retention_clear (LfRetention *retention);
/* The steps of `steps` (LfStepRecord, by step) that no policy keeps, lowest
 * first, never `just_saved` (a GArray of gint64). */
GArray *_lf_retention_select (const LfRetention *retention, GArray *steps,
                              gint64 just_saved);

/* ---- groups of processes (group.c) -------------------------------------------- */

/* Whether this process writes the directory: always, but in a group only
 * rank 0. */
gboolean _lf_checkpoint_leads (LfCheckpointManager *manager);
/* Collective in a group: `*error` is this process's error or NULL; TRUE
 * when no rank failed, else every rank gets the same error.  Alone: TRUE
 * when `*error` is NULL. */
gboolean _lf_checkpoint_agree (LfCheckpointManager *manager, GError **error);
/* Collective in a group: the other ranks take rank 0's list of steps. */
void _lf_checkpoint_share_steps (LfCheckpointManager *manager);
/* Collective in a group: LF_ERROR_MISMATCH unless rank 0 saves `step` too. */
gboolean _lf_checkpoint_same_step (LfCheckpointManager *manager, gint64 step, GError **error);
/* Whether a save may run on a thread of its own. */
gboolean _lf_checkpoint_threads_ok (LfCheckpointManager *manager);
/* Opens a manager, alone (`group` NULL) or as a rank of a group. */
LfCheckpointManager *_lf_checkpoint_open (const char *directory, const LfCheckpointGroup *group,
                                          gpointer group_data, GError **error);

/* ---- saving (manager.c, async.c) ------------------------------------------------ */

/* Refuses a step that exists, or whose files exist without being ours. */
gboolean _lf_checkpoint_check_new_step (LfCheckpointManager *manager, gint64 step,
                                        GError **error);
/* Everything a save checks before it starts: the metrics, a new step, and
 * in a group that every rank agrees (collective). */
gboolean _lf_checkpoint_check_save (LfCheckpointManager *manager, gint64 step, LfNode *metrics,
                                    GError **error);
/* Saves, commits and applies retention (the caller waited for any save in
 * flight and checked the step).  On failure nothing of `step` remains. */
gboolean _lf_checkpoint_save_step (LfCheckpointManager *manager, gint64 step, LfNode *tree,
                                   LfSpec *spec, LfNode *metrics, GError **error);
/* Joins the save thread, if any, keeping its error in async_error. */
void _lf_checkpoint_join (LfCheckpointManager *manager);
/* Hands on async_error, if any: FALSE then. */
gboolean _lf_checkpoint_take_async_error (LfCheckpointManager *manager, GError **error);
