/**
 * SECTION:checkpoint
 * @title: Checkpoint manager
 * @short_description: a directory of numbered steps, retention, asynchronous saves
 *
 * An LfCheckpointManager saves a tree as step N of a training run, knows
 * the latest step, restores any step, lists them with their time, size and
 * metrics, and removes the ones its retention policy no longer keeps.
 *
 * Each step is a plain .eqx beside its manifest, which Equinox (or a loop
 * of np.load) reads when the default codec is used, and a small commit
 * record; the directory holds, for step 100:
 *
 * |[
 *   step-00000100.eqx         the leaves (<leafio/serialise.h>)
 *   step-00000100.eqx.json    its manifest (docs/MANIFEST.md)
 *   step-00000100.meta.json   the commit record: step, time, size, metrics
 *   .leafio-checkpoints.lock  held while a manager has the directory open
 * ]|
 *
 * docs/CHECKPOINTS.md describes the commit record.
 *
 * Crash safety: a step is listed only once its commit record says
 * "committed", and that record is written (synced, renamed, directory
 * synced) only after the data and the manifest are durable.  Before a
 * step's files are made or removed the record says "pending", so a process
 * killed at any point leaves committed steps that load, and files the next
 * manager knows as its own and removes.  The directory is the only state:
 * there is no index file to go stale.  A manager never removes or
 * overwrites a file it did not create: names it does not know are left
 * alone, and saving a step whose .eqx exists without a commit record
 * fails.
 *
 * One manager a directory: a second one, in this process or another, fails
 * to open it with LF_ERROR_BUSY.
 *
 * Threads: a manager is used from one thread at a time; asynchronous saves
 * run on a thread of their own, and lf_checkpoint_manager_get_latest_step()
 * and lf_checkpoint_manager_list() may be called while one runs.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/**
 * LfCheckpointManager:
 *
 * A directory of checkpoints, opened with lf_checkpoint_manager_open().
 *
 * Since: 0.2
 */
typedef struct _LfCheckpointManager LfCheckpointManager;

/**
 * LF_CHECKPOINT_LATEST:
 *
 * The step lf_checkpoint_manager_restore() takes to mean the latest one.
 *
 * Since: 0.2
 */
#define LF_CHECKPOINT_LATEST ((gint64) -1)

/**
 * LfCheckpointStep:
 * @step: the step number
 * @time: when the step was committed, in microseconds since the Unix
 *   epoch (as g_get_real_time() counts)
 * @size: the bytes of its data and manifest files
 * @metrics: a dict of the scalars given when it was saved (empty when none)
 * @path: the step's .eqx file
 *
 * One committed step, as lf_checkpoint_manager_list() describes it.
 *
 * Since: 0.2
 */
typedef struct {
  gint64 step;
  gint64 time;
  guint64 size;
  LfNode *metrics;
  char *path;
} LfCheckpointStep;

/**
 * lf_checkpoint_step_free:
 * @step: (nullable) (transfer full): a step description
 *
 * Frees a step description from lf_checkpoint_manager_list().
 *
 * Since: 0.2
 */
LF_API void lf_checkpoint_step_free (LfCheckpointStep *step);

/**
 * lf_checkpoint_step_get_metric:
 * @step: a step description
 * @name: a metric's name
 * @value: (out): its value
 *
 * Looks up one metric of a step, converted to a double.
 *
 * Returns: %TRUE when the step was saved with metric @name.
 *
 * Since: 0.2
 */
LF_API gboolean lf_checkpoint_step_get_metric (const LfCheckpointStep *step, const char *name,
                                               double *value);

/**
 * LfCheckpointIO:
 * @struct_size: sizeof (LfCheckpointIO)
 * @save: writes @tree to @path, a plain .eqx with its manifest beside it,
 *   replacing it atomically and durably (as lf_tree_serialise_leaves_full()
 *   does with %LF_SAVE_MANIFEST)
 * @load: reads @path back (as lf_tree_deserialise_leaves() does)
 *
 * The functions a manager saves and loads steps with, for libraries that
 * have their own (collective MPI-IO saves).  The default table uses
 * lf_tree_serialise_leaves_full() and lf_tree_deserialise_leaves().
 *
 * Since: 0.2
 */
typedef struct {
  guint32 struct_size;
  gboolean (*save) (gpointer user_data, const char *path, LfNode *tree, LfSpec *spec,
                    GError **error);
  LfNode *(*load) (gpointer user_data, const char *path, LfNode *like, LfSpec *spec,
                   GError **error);
  /*< private >*/
  gpointer reserved[4];
} LfCheckpointIO;

/**
 * LfMetricGoal:
 * @LF_METRIC_MIN: lower values are better (a loss)
 * @LF_METRIC_MAX: higher values are better (an accuracy)
 *
 * Which steps lf_checkpoint_manager_keep_best() keeps.
 *
 * Since: 0.2
 */
typedef enum {
  LF_METRIC_MIN,
  LF_METRIC_MAX,
} LfMetricGoal;

/**
 * lf_checkpoint_manager_open:
 * @directory: the checkpoint directory; made (with its parents) when
 *   missing
 * @error: return location for a #GError, or %NULL
 *
 * Opens @directory, takes its lock and reads its steps.  Files a killed
 * save or removal left behind (steps whose record says "pending", and
 * their temporary files) are removed.  A commit record that cannot be read
 * is reported with a g_warning() and its step left alone and unlisted.
 *
 * Returns: (transfer full) (nullable): the manager, or %NULL with
 *   %LF_ERROR_BUSY (another manager has the directory open) or
 *   %LF_ERROR_IO (the directory or its lock cannot be made or read).
 *
 * Since: 0.2
 */
LF_API LfCheckpointManager *lf_checkpoint_manager_open (const char *directory,
                                                        GError **error);

/**
 * lf_checkpoint_manager_close:
 * @manager: (transfer full): a manager
 * @error: return location for a #GError, or %NULL
 *
 * Waits for an asynchronous save in flight, releases the directory and
 * frees @manager.
 *
 * Returns: %TRUE, or %FALSE with the error of an asynchronous save that
 *   nobody has been told of yet.
 *
 * Since: 0.2
 */
LF_API gboolean lf_checkpoint_manager_close (LfCheckpointManager *manager, GError **error);

/**
 * lf_checkpoint_manager_free:
 * @manager: (nullable) (transfer full): a manager
 *
 * lf_checkpoint_manager_close() for cleanups (g_autoptr): an error nobody
 * has been told of is reported with g_warning().
 *
 * Since: 0.2
 */
LF_API void lf_checkpoint_manager_free (LfCheckpointManager *manager);

/**
 * lf_checkpoint_manager_get_directory:
 * @manager: a manager
 *
 * The directory @manager keeps.
 *
 * Returns: (transfer none): the directory, as given.
 *
 * Since: 0.2
 */
LF_API const char *lf_checkpoint_manager_get_directory (LfCheckpointManager *manager);

/**
 * lf_checkpoint_manager_get_path:
 * @manager: a manager
 * @step: a step number (not negative)
 *
 * Where step @step's .eqx is, or would be: for lf_file_open(),
 * np.load or Equinox.
 *
 * Returns: (transfer full): the path of step @step's .eqx, whether it
 *   exists or not.  Free with g_free().
 *
 * Since: 0.2
 */
LF_API char *lf_checkpoint_manager_get_path (LfCheckpointManager *manager, gint64 step);

/**
 * lf_checkpoint_manager_set_io:
 * @manager: a manager
 * @io: (nullable): the functions to save and load steps with, valid as
 *   long as @manager; %NULL for the default ones
 * @user_data: (closure): passed to them
 *
 * Sets the functions @manager saves and loads steps with (see
 * #LfCheckpointIO).  Waits for a save in flight first.
 *
 * Since: 0.2
 */
LF_API void lf_checkpoint_manager_set_io (LfCheckpointManager *manager,
                                          const LfCheckpointIO *io, gpointer user_data);

/**
 * lf_checkpoint_manager_keep_last:
 * @manager: a manager
 * @n: how many of the latest steps to keep; 0 turns this policy off
 *
 * Retention: keeps the @n highest steps.  Policies combine: after each
 * save, a step stays when any policy set keeps it, and the step just
 * saved always stays.  With no policy set, every step stays.
 *
 * Since: 0.2
 */
LF_API void lf_checkpoint_manager_keep_last (LfCheckpointManager *manager, guint n);

/**
 * lf_checkpoint_manager_keep_every:
 * @manager: a manager
 * @k: keep the steps that are multiples of @k; 0 turns this policy off
 *
 * Retention: keeps every @k-th step (0, k, 2k, ...) for good.
 *
 * Since: 0.2
 */
LF_API void lf_checkpoint_manager_keep_every (LfCheckpointManager *manager, guint64 k);

/**
 * lf_checkpoint_manager_keep_best:
 * @manager: a manager
 * @metric: (nullable): the metric's name; %NULL turns this policy off
 * @goal: whether lower or higher values are better
 * @k: how many of the best steps to keep
 *
 * Retention: keeps the @k steps with the best value of @metric (the newer
 * step of two equal ones).  Steps saved without @metric, or with a NaN,
 * are not kept by this policy.
 *
 * Since: 0.2
 */
LF_API void lf_checkpoint_manager_keep_best (LfCheckpointManager *manager, const char *metric,
                                             LfMetricGoal goal, guint k);

/**
 * lf_checkpoint_manager_save:
 * @manager: a manager
 * @step: the step number, 0 or more, not yet saved
 * @tree: the tree to save
 * @spec: (nullable): which codec handles each leaf (%NULL: `npy`)
 * @metrics: (nullable): a dict of bool, integer or floating scalars
 *   (`{"loss": 0.25}`) kept with the step, for lf_checkpoint_manager_list()
 *   and lf_checkpoint_manager_keep_best()
 * @error: return location for a #GError, or %NULL
 *
 * Saves step @step and commits it, then applies the retention policies.
 * Waits for an asynchronous save in flight first.  When it fails, nothing
 * of step @step is left and every other step is as it was.
 *
 * Returns: %TRUE once @step is committed and retention is done; %FALSE
 *   with %LF_ERROR_FAILED (@step exists: remove it first, or its .eqx
 *   exists without being a step of this manager), %LF_ERROR_UNSUPPORTED
 *   (@metrics is not a dict of real scalars), the save's error, an error
 *   of removing a step retention no longer keeps (@step is saved then;
 *   the message says so), or the error of an earlier asynchronous save
 *   nobody has been told of (then nothing is saved).
 *
 * Since: 0.2
 */
LF_API gboolean lf_checkpoint_manager_save (LfCheckpointManager *manager, gint64 step,
                                            LfNode *tree, LfSpec *spec, LfNode *metrics,
                                            GError **error);

/**
 * lf_checkpoint_manager_save_async:
 * @manager: a manager
 * @step: as for lf_checkpoint_manager_save()
 * @tree: as for lf_checkpoint_manager_save()
 * @spec: (nullable): as for lf_checkpoint_manager_save()
 * @metrics: (nullable): as for lf_checkpoint_manager_save()
 * @error: return location for a #GError, or %NULL
 *
 * Starts saving @step on a thread of its own and returns once it has a
 * snapshot of @tree: leaves that own their data (lf_array_new_take(),
 * lf_array_new_copy(), loaded leaves, lf_array_new_from_bytes()) and
 * scalars are immutable and taken by reference; arrays that borrow the
 * caller's memory (lf_array_new_borrowed()) are copied, so the caller may
 * change that memory as soon as this returns.  Opaque leaves are taken by
 * reference.  Encoding, writing, syncing, committing and retention run on
 * the thread.
 *
 * One save runs at a time: a save that is still running is waited for
 * first.  Its outcome is reported by lf_checkpoint_manager_wait(), or else
 * by the next save (which then does not start) or by
 * lf_checkpoint_manager_close().
 *
 * Returns: %TRUE when the save started; %FALSE with the errors of
 *   lf_checkpoint_manager_save() that can be told before it starts, the
 *   error of the previous save, %LF_ERROR_TOO_LARGE (no memory for the
 *   copies) or %LF_ERROR_FAILED (no thread).
 *
 * Since: 0.2
 */
LF_API gboolean lf_checkpoint_manager_save_async (LfCheckpointManager *manager, gint64 step,
                                                  LfNode *tree, LfSpec *spec,
                                                  LfNode *metrics, GError **error);

/**
 * lf_checkpoint_manager_wait:
 * @manager: a manager
 * @error: return location for a #GError, or %NULL
 *
 * Waits for the asynchronous save in flight, if any.
 *
 * Returns: %TRUE when no save failed since the last report; %FALSE with
 *   the error of lf_checkpoint_manager_save() of the save that failed.
 *
 * Since: 0.2
 */
LF_API gboolean lf_checkpoint_manager_wait (LfCheckpointManager *manager, GError **error);

/**
 * lf_checkpoint_manager_restore:
 * @manager: a manager
 * @step: a committed step, or %LF_CHECKPOINT_LATEST
 * @like: the tree to load into (as for lf_tree_deserialise_leaves())
 * @spec: (nullable): the spec the step was saved with
 * @error: return location for a #GError, or %NULL
 *
 * Loads a step.  Waits for an asynchronous save in flight first (whose
 * outcome is still reported as lf_checkpoint_manager_save_async() says).
 *
 * Returns: (transfer full) (nullable): the loaded tree, or %NULL with
 *   %LF_ERROR_NOT_FOUND (no such step, or no step at all) or the load's
 *   error.
 *
 * Since: 0.2
 */
LF_API LfNode *lf_checkpoint_manager_restore (LfCheckpointManager *manager, gint64 step,
                                              LfNode *like, LfSpec *spec, GError **error);

/**
 * lf_checkpoint_manager_get_latest_step:
 * @manager: a manager
 *
 * The step lf_checkpoint_manager_restore() loads for
 * %LF_CHECKPOINT_LATEST.  Does not wait for a save in flight.
 *
 * Returns: the highest committed step, or -1 when there is none.
 *
 * Since: 0.2
 */
LF_API gint64 lf_checkpoint_manager_get_latest_step (LfCheckpointManager *manager);

/**
 * lf_checkpoint_manager_list:
 * @manager: a manager
 *
 * The committed steps with their time, size and metrics.  Does not
 * wait for a save in flight.
 *
 * Returns: (transfer full) (element-type LfCheckpointStep): the committed
 *   steps, lowest first.
 *
 * Since: 0.2
 */
LF_API GPtrArray *lf_checkpoint_manager_list (LfCheckpointManager *manager);

/**
 * lf_checkpoint_manager_remove:
 * @manager: a manager
 * @step: a committed step
 * @error: return location for a #GError, or %NULL
 *
 * Removes a step's files (its commit record says "pending" first, so a
 * removal cut short is finished by the next manager).  Waits for an
 * asynchronous save in flight first.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_NOT_FOUND or %LF_ERROR_IO.
 *
 * Since: 0.2
 */
LF_API gboolean lf_checkpoint_manager_remove (LfCheckpointManager *manager, gint64 step,
                                              GError **error);

/**
 * lf_checkpoint_list_directory:
 * @directory: a checkpoint manager's directory
 * @error: return location for a #GError, or %NULL
 *
 * Lists the committed steps of @directory as lf_checkpoint_manager_list()
 * would, without opening a manager: no lock is taken and nothing in the
 * directory is changed, so it works while another process holds the
 * manager open and saves.  A step that is being saved or removed
 * meanwhile is either listed whole or not at all; a step whose commit
 * record cannot be read is not listed.
 *
 * Returns: (transfer full) (element-type LfCheckpointStep): the steps, by
 *   increasing step (free with g_ptr_array_unref()), or %NULL with
 *   %LF_ERROR_IO when @directory cannot be read.
 *
 * Since: 0.2
 */
LF_API GPtrArray *lf_checkpoint_list_directory (const char *directory, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfCheckpointManager, lf_checkpoint_manager_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfCheckpointStep, lf_checkpoint_step_free)

G_END_DECLS
