/* Work handed to another thread while the caller does something else
 * (helper-threads.c): one process-wide pool, so no thread is made per call. */
#pragma once

#include <glib.h>

typedef struct _LfHelperTask LfHelperTask;

/* Offers func (data) to a helper thread.  Never fails: a task no helper
 * took runs in the caller at _lf_helper_finish. */
G_GNUC_INTERNAL LfHelperTask *_lf_helper_start (GFunc func, gpointer data);
/* Returns once the task has run: in the caller when no helper took it,
 * otherwise after the helper's run. */
G_GNUC_INTERNAL void _lf_helper_finish (LfHelperTask *task);
/* Whether helpers run beside the caller (more than one CPU). */
G_GNUC_INTERNAL gboolean _lf_helpers_available (void);
