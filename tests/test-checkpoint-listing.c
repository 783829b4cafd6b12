/* lf_checkpoint_list_directory: a checkpoint directory listed without a
 * manager, while another one holds it, and with leftovers a manager would
 * clean up (which the listing must leave alone). */
#include "config.h"
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "test-common.h"

static LfNode *
model (gint64 step)
{
  gsize shape[1] = { 4 };
  float w[4] = { (float) step, 1, 2, 3 };
  return lf_dict_new_take ("w", lf_array_new_copy (LF_DTYPE_FLOAT32, 1, shape, w),
                           "step", lf_scalar_new_int (step), NULL);
}

static void
save_ok (LfCheckpointManager *manager, gint64 step, double loss)
{
  g_autoptr (LfNode) tree = model (step);
  g_autoptr (LfNode) metrics = lf_dict_new_take ("loss", lf_scalar_new_float (loss), NULL);
  GError *error = NULL;
  ck_assert (lf_checkpoint_manager_save (manager, step, tree, NULL, metrics, &error));
  LF_ASSERT_NO_ERROR (error);
}

/* "1 2 3" */
static char *
steps_text (GPtrArray *steps)
{
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < steps->len; i++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, i ? " " : "",
                            ((LfCheckpointStep *) steps->pdata[i])->step);
  return g_string_free (text, FALSE);
}

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

START_TEST (test_list_while_open)
{
  g_autofree char *dir = lf_test_path ("listing");
  GError *error = NULL;
  LfCheckpointManager *manager = lf_checkpoint_manager_open (dir, &error);
  LF_ASSERT_NO_ERROR (error);
  save_ok (manager, 30, 0.5);
  save_ok (manager, 4, 0.25);
  save_ok (manager, 100, 0.125);

  /* The manager holds the lock: the listing needs none. */
  g_autoptr (GPtrArray) steps = lf_checkpoint_list_directory (dir, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *text = steps_text (steps);
  ck_assert_str_eq (text, "4 30 100");
  g_autoptr (GPtrArray) managed = lf_checkpoint_manager_list (manager);
  for (guint i = 0; i < steps->len; i++)
    {
      LfCheckpointStep *a = steps->pdata[i], *b = managed->pdata[i];
      ck_assert_int_eq (a->step, b->step);
      ck_assert_int_eq (a->time, b->time);
      ck_assert_uint_eq (a->size, b->size);
      ck_assert_str_eq (a->path, b->path);
      ck_assert (lf_tree_equal (a->metrics, b->metrics));
    }
  double loss = 0;
  ck_assert (lf_checkpoint_step_get_metric (steps->pdata[2], "loss", &loss));
  ck_assert (loss == 0.125);
  ck_assert (lf_checkpoint_manager_close (manager, &error));
  LF_ASSERT_NO_ERROR (error);

  /* A step being saved (pending), one whose data is gone, and a record
   * that is not one are not listed, and nothing is removed. */
  const struct { const char *name, *text; } files[] = {
    { "step-00000200.meta.json", "{\"format\": \"leafio-checkpoint\", \"version\": 1, "
                                 "\"step\": 200, \"state\": \"pending\"}" },
    { "step-00000200.eqx", "partial" },
    { "step-00000009.meta.json", "not json" },
    { "README", "not ours" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i].name, NULL);
      lf_test_write_file (path, files[i].text, strlen (files[i].text));
    }
  g_autofree char *data = g_build_filename (dir, "step-00000030.eqx", NULL);
  ck_assert (g_unlink (data) == 0);
  guint before = count_files (dir);
  g_autoptr (GPtrArray) again = lf_checkpoint_list_directory (dir, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *again_text = steps_text (again);
  ck_assert_str_eq (again_text, "4 100");
  ck_assert_uint_eq (count_files (dir), before);
}
END_TEST

START_TEST (test_list_errors)
{
  GError *error = NULL;
  g_autofree char *missing = lf_test_path ("no-such-dir");
  ck_assert (lf_checkpoint_list_directory (missing, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "no-such-dir: cannot list: No such file or directory");
  g_autofree char *file = lf_test_path ("a-file");
  lf_test_write_file (file, "x", 1);
  ck_assert (lf_checkpoint_list_directory (file, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "a-file: cannot list: not a directory");
  /* An empty directory has no steps. */
  g_autofree char *empty = lf_test_path ("empty-dir");
  ck_assert (g_mkdir_with_parents (empty, 0700) == 0);
  g_autoptr (GPtrArray) steps = lf_checkpoint_list_directory (empty, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (steps->len, 0);
}
END_TEST

/* A commit record that is a FIFO or a link to /dev/zero (a shared
 * directory, a stray mkfifo) is skipped at once: the listing neither
 * waits for a writer nor reads without end. */
START_TEST (test_list_special_records)
{
  g_autofree char *dir = lf_test_path ("special");
  GError *error = NULL;
  LfCheckpointManager *manager = lf_checkpoint_manager_open (dir, &error);
  LF_ASSERT_NO_ERROR (error);
  save_ok (manager, 1, 0.5);
  ck_assert (lf_checkpoint_manager_close (manager, &error));
  LF_ASSERT_NO_ERROR (error);
  const char *names[] = { "step-00000002", "step-00000003" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *data = g_strconcat (dir, "/", names[i], ".eqx", NULL);
      lf_test_write_file (data, "x", 1);
    }
  g_autofree char *fifo = g_build_filename (dir, "step-00000002.meta.json", NULL);
  ck_assert (mkfifo (fifo, 0600) == 0);
  g_autofree char *zero = g_build_filename (dir, "step-00000003.meta.json", NULL);
  ck_assert (symlink ("/dev/zero", zero) == 0);
  g_autoptr (GPtrArray) steps = lf_checkpoint_list_directory (dir, &error);
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *text = steps_text (steps);
  ck_assert_str_eq (text, "1");
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("checkpoint-listing");
  TCase *tc = tcase_create ("listing");
  tcase_add_test (tc, test_list_while_open);
  tcase_add_test (tc, test_list_errors);
  tcase_add_test (tc, test_list_special_records);
  suite_add_tcase (suite, tc);
  return suite;
}
