/* cli-fixture: makes the files tests/test-cli-commands.sh runs the tool on
 * (not a Check suite).
 *
 *   cli-fixture resave IN SKELETON.json OUT [SPEC]
 *       Loads IN (a file of records, no manifest) with the skeleton and the
 *       default codec and saves it to OUT with SPEC (default npy) and a
 *       manifest.
 *   cli-fixture checkpoints DIR N
 *       Saves steps 100, 200, ... (N of them) of a small tree to a checkpoint
 *       manager over DIR, each with metrics {"loss": 1/step, "epoch": i}.
 *   cli-fixture hold DIR
 *       Opens a manager over DIR (taking its lock), prints "locked" and
 *       waits until stdin closes.
 *   cli-fixture
 *       Without arguments (as `make check` runs every check program): a
 *       smoke test of the three in a temporary directory.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <leafio/leafio.h>

static int
fail (GError *error)
{
  fprintf (stderr, "cli-fixture: %s\n", error->message);
  g_error_free (error);
  return 1;
}

static int
resave (const char *in, const char *skeleton, const char *out, const char *spec_text)
{
  GError *error = NULL;
  g_autoptr (LfNode) like = lf_tree_from_json_file (skeleton, &error);
  if (like == NULL)
    return fail (error);
  g_autoptr (LfNode) tree = lf_tree_deserialise_leaves_full (in, like, NULL, NULL, NULL,
                                                             LF_LOAD_IGNORE_MANIFEST, &error);
  if (tree == NULL)
    return fail (error);
  g_autoptr (LfSpec) spec = NULL;
  if (spec_text != NULL)
    {
      spec = lf_spec_new_for_reference (NULL, spec_text, &error);
      if (spec == NULL)
        return fail (error);
    }
  if (!lf_tree_serialise_leaves_full (out, tree, spec, NULL, NULL, LF_SAVE_MANIFEST, &error))
    return fail (error);
  return 0;
}

static int
checkpoints (const char *directory, int n)
{
  GError *error = NULL;
  LfCheckpointManager *manager = lf_checkpoint_manager_open (directory, &error);
  if (manager == NULL)
    return fail (error);
  for (int i = 1; i <= n; i++)
    {
      float weights[6] = { (float) i, 1, 2, 3, 4, 5 };
      const gsize shape[] = { 2, 3 };
      g_autoptr (LfNode) tree = lf_dict_new_take (
        "w", lf_array_new_copy (LF_DTYPE_FLOAT32, 2, shape, weights),
        "step", lf_scalar_new_int (100 * i), NULL);
      g_autoptr (LfNode) metrics = lf_dict_new_take (
        "loss", lf_scalar_new_float (1.0 / (100 * i)), "epoch", lf_scalar_new_int (i), NULL);
      if (!lf_checkpoint_manager_save (manager, 100 * i, tree, NULL, metrics, &error))
        {
          lf_checkpoint_manager_free (manager);
          return fail (error);
        }
    }
  if (!lf_checkpoint_manager_close (manager, &error))
    return fail (error);
  return 0;
}

static int
hold (const char *directory)
{
  GError *error = NULL;
  g_autoptr (LfCheckpointManager) manager = lf_checkpoint_manager_open (directory, &error);
  if (manager == NULL)
    return fail (error);
  printf ("locked\n");
  fflush (stdout);
  char buffer[64];
  while (fread (buffer, 1, sizeof buffer, stdin) > 0)
    ;
  return 0;
}

static int
smoke_test (void)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cli-fixture-XXXXXX", &error);
  if (dir == NULL)
    return fail (error);
  g_autofree char *steps = g_build_filename (dir, "steps", NULL);
  int status = checkpoints (steps, 2);
  g_autoptr (GPtrArray) listed = status == 0 ? lf_checkpoint_list_directory (steps, &error)
                                             : NULL;
  if (status == 0 && listed == NULL)
    status = fail (error);
  if (listed != NULL && listed->len != 2)
    {
      fprintf (stderr, "cli-fixture: listed %u steps, expected 2\n", listed->len);
      status = 1;
    }
  g_autoptr (GDir) d = g_dir_open (steps, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (steps, name, NULL);
      g_unlink (path);
    }
  g_rmdir (steps);
  g_rmdir (dir);
  return status;
}

int
main (int argc, char **argv)
{
  if (argc == 1)
    return smoke_test ();
  if (strcmp (argv[1], "resave") == 0 && (argc == 5 || argc == 6))
    return resave (argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
  if (strcmp (argv[1], "checkpoints") == 0 && argc == 4)
    return checkpoints (argv[2], atoi (argv[3]));
  if (strcmp (argv[1], "hold") == 0 && argc == 3)
    return hold (argv[2]);
  fprintf (stderr, "usage: cli-fixture resave IN SKELETON.json OUT [SPEC] | "
                   "checkpoints DIR N | hold DIR\n");
  return 2;
}
