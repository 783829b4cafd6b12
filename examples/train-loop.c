/* A toy training loop that checkpoints as a real one would: it fits a
 * linear model by gradient descent, saves every K steps asynchronously
 * (training goes on while the step is written), keeps the last 3 steps and
 * the best one by loss, and when started again resumes from the latest
 * step.  Kill it at any moment (kill -9) and start it again: it goes on
 * from the last committed step and ends with the same weights as a run
 * that was never interrupted.
 *
 *   train-loop DIR [STEPS [EVERY [SLEEP_MS]]]   (defaults: 100 20 0) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <leafio/leafio.h>

#define FEATURES 64

/* The training state: all of it goes in the checkpoint. */
typedef struct {
  float weights[FEATURES];
  float bias;
  gint64 step;
} Model;

/* Example `i` of the data set, the same on every run. */
static float
feature (gint64 i, int j)
{
  return (float) sin ((double) (i * 31 + j * 17) * 0.1);
}

static float
target (gint64 i)
{
  float y = 0.5f;
  for (int j = 0; j < FEATURES; j++)
    y += feature (i, j) * (float) (j % 7 - 3) * 0.1f;
  return y;
}

/* One step of gradient descent on a batch of 32 examples; returns the loss. */
static double
train_step (Model *model)
{
  float grad[FEATURES] = { 0 }, grad_bias = 0;
  double loss = 0;
  for (gint64 i = model->step * 32; i < model->step * 32 + 32; i++)
    {
      float error = model->bias - target (i);
      for (int j = 0; j < FEATURES; j++)
        error += model->weights[j] * feature (i, j);
      loss += error * error / 32;
      for (int j = 0; j < FEATURES; j++)
        grad[j] += 2 * error * feature (i, j) / 32;
      grad_bias += 2 * error / 32;
    }
  for (int j = 0; j < FEATURES; j++)
    model->weights[j] -= 0.01f * grad[j];
  model->bias -= 0.01f * grad_bias;
  model->step++;
  return loss;
}

/* The tree of the model: its arrays borrow the Model's memory, which the
 * next steps change, so an asynchronous save copies them. */
static LfNode *
model_tree (Model *model)
{
  gsize features = FEATURES;
  return lf_dict_new_take (
      "weights", lf_array_new_borrowed (LF_DTYPE_FLOAT32, 1, &features, model->weights,
                                        NULL, NULL),
      "bias", lf_array_new_borrowed (LF_DTYPE_FLOAT32, 0, NULL, &model->bias, NULL, NULL),
      "step", lf_scalar_new_int (model->step), NULL);
}

static gboolean
resume (LfCheckpointManager *manager, Model *model, GError **error)
{
  gint64 latest = lf_checkpoint_manager_get_latest_step (manager);
  if (latest < 0)
    {
      printf ("starting from scratch\n");
      return TRUE;
    }
  g_autoptr (LfNode) like = model_tree (model);
  g_autoptr (LfNode) saved = lf_checkpoint_manager_restore (manager, latest, like, NULL, error);
  if (saved == NULL)
    return FALSE;
  LfNode *weights = lf_dict_lookup (saved, "weights");
  memcpy (model->weights, lf_array_get_data (weights), sizeof model->weights);
  memcpy (&model->bias, lf_array_get_data (lf_dict_lookup (saved, "bias")), sizeof (float));
  model->step = lf_scalar_get_int (lf_dict_lookup (saved, "step"));
  printf ("resumed from step %" G_GINT64_FORMAT "\n", latest);
  return TRUE;
}

static gboolean
train (LfCheckpointManager *manager, gint64 steps, gint64 every, int sleep_ms, GError **error)
{
  Model model = { { 0 }, 0, 0 };
  if (!resume (manager, &model, error))
    return FALSE;
  double loss = NAN;
  while (model.step < steps)
    {
      loss = train_step (&model);
      if (sleep_ms > 0)
        g_usleep ((gulong) sleep_ms * 1000);
      if (model.step % every != 0)
        continue;
      g_autoptr (LfNode) tree = model_tree (&model);
      g_autoptr (LfNode) metrics = lf_dict_new_take ("loss", lf_scalar_new_float (loss), NULL);
      /* Blocks only to copy the model; the save runs while we train on. */
      if (!lf_checkpoint_manager_save_async (manager, model.step, tree, NULL, metrics, error))
        return FALSE;
      printf ("step %" G_GINT64_FORMAT ": loss %.6f, saving\n", model.step, loss);
      fflush (stdout);
    }
  if (!lf_checkpoint_manager_wait (manager, error))
    return FALSE;
  double sum = model.bias;
  for (int j = 0; j < FEATURES; j++)
    sum += model.weights[j] * (j + 1);
  printf ("done at step %" G_GINT64_FORMAT ": weights checksum %.9g\n", model.step, sum);
  return TRUE;
}

static void
print_kept (LfCheckpointManager *manager)
{
  g_autoptr (GPtrArray) steps = lf_checkpoint_manager_list (manager);
  printf ("kept:");
  for (guint i = 0; i < steps->len; i++)
    {
      const LfCheckpointStep *step = steps->pdata[i];
      double loss = NAN;
      lf_checkpoint_step_get_metric (step, "loss", &loss);
      printf (" %" G_GINT64_FORMAT " (loss %.6f)", step->step, loss);
    }
  printf ("\n");
}

int
main (int argc, char **argv)
{
  if (argc < 2 || argc > 5)
    {
      fprintf (stderr, "usage: %s DIR [STEPS [EVERY [SLEEP_MS]]]\n", argv[0]);
      return 2;
    }
  gint64 steps = argc > 2 ? g_ascii_strtoll (argv[2], NULL, 10) : 100;
  gint64 every = argc > 3 ? g_ascii_strtoll (argv[3], NULL, 10) : 20;
  int sleep_ms = argc > 4 ? atoi (argv[4]) : 0;
  if (steps <= 0 || every <= 0 || sleep_ms < 0)
    {
      fprintf (stderr, "%s: STEPS and EVERY must be positive\n", argv[0]);
      return 2;
    }

  GError *error = NULL;
  LfCheckpointManager *manager = lf_checkpoint_manager_open (argv[1], &error);
  if (manager == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      return 1;
    }
  lf_checkpoint_manager_keep_last (manager, 3);
  lf_checkpoint_manager_keep_best (manager, "loss", LF_METRIC_MIN, 1);
  gboolean ok = train (manager, steps, every, sleep_ms, &error);
  if (ok)
    print_kept (manager);
  /* Closing waits for a save in flight and reports its error. */
  ok = lf_checkpoint_manager_close (manager, ok ? &error : NULL) && ok;
  if (!ok)
    {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      return 1;
    }
  return 0;
}
