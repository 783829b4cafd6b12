/* Retention: which steps the policies no longer keep.  A step stays when
 * any policy keeps it; with no policy, every step stays. */
#include "config.h"
#include <math.h>
#include "checkpoint-private.h"

void
_lf_retention_clear (LfRetention *retention)
{
  g_clear_pointer (&retention->best_metric, g_free);
}

typedef struct {
  gsize index;
  gint64 step;
  double value;
} Scored;

static gint
compare_scored (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Scored *x = a, *y = b;
  LfMetricGoal goal = GPOINTER_TO_INT (user_data);
  if (x->value != y->value)
    return (x->value < y->value) == (goal == LF_METRIC_MIN) ? -1 : 1;
  return x->step > y->step ? -1 : x->step < y->step;  /* the newer first */
}

/* Marks the `k` steps with the best value of the metric. */
static void
keep_best (const LfRetention *retention, GArray *steps, gboolean *keep)
{
  g_autoptr (GArray) scored = g_array_new (FALSE, FALSE, sizeof (Scored));
  for (gsize i = 0; i < steps->len; i++)
    {
      const LfStepRecord *record = &g_array_index (steps, LfStepRecord, i);
      LfNode *value = lf_dict_lookup (record->metrics, retention->best_metric);
      if (value == NULL || isnan (lf_scalar_get_float (value)))
        continue;
      Scored s = { i, record->step, lf_scalar_get_float (value) };
      g_array_append_val (scored, s);
    }
  g_array_sort_with_data (scored, compare_scored, GINT_TO_POINTER (retention->best_goal));
  for (gsize i = 0; i < scored->len && i < retention->keep_best; i++)
    keep[g_array_index (scored, Scored, i).index] = TRUE;
}

GArray *
_lf_retention_select (const LfRetention *retention, GArray *steps, gint64 just_saved)
{
  GArray *doomed = g_array_new (FALSE, FALSE, sizeof (gint64));
  gboolean any = retention->keep_last > 0 || retention->keep_every > 0
                 || retention->best_metric != NULL;
  if (!any)
    return doomed;
  g_autofree gboolean *keep = g_new0 (gboolean, MAX (steps->len, 1));
  for (gsize i = 0; i < steps->len; i++)
    {
      gint64 step = g_array_index (steps, LfStepRecord, i).step;
      keep[i] = step == just_saved
                || (retention->keep_every > 0 && (guint64) step % retention->keep_every == 0)
                || i + retention->keep_last >= steps->len;
    }
  if (retention->best_metric != NULL)
    keep_best (retention, steps, keep);
  for (gsize i = 0; i < steps->len; i++)
    if (!keep[i])
      g_array_append_val (doomed, g_array_index (steps, LfStepRecord, i).step);
  return doomed;
}
