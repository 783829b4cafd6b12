/* Which plugin files the loader trusts: like OpenSSH's StrictModes, a
 * plugin file and its directory must be owned by root or the user and
 * writable by nobody else; a link is judged by what it leads to as well.
 * A codec name two plugins claim cannot be resolved at all. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "test-common.h"

static char *
built_npy (void)
{
  return g_build_filename (lf_test_top_builddir (), "plugins", ".libs", "npy.so", NULL);
}

/* A new directory `name` (mode 0700) holding a copy of npy.so. */
static char *
plugin_dir (const char *name)
{
  char *dir = lf_test_path (name);
  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  g_autofree char *source = built_npy ();
  g_autoptr (GBytes) bytes = lf_test_read_file (source);
  g_autofree char *copy = g_build_filename (dir, "npy.so", NULL);
  lf_test_write_file (copy, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  ck_assert_int_eq (g_chmod (copy, 0755), 0);
  return dir;
}

/* Loads `dir` into a new registry; returns whether npy got registered and
 * stores the first error (the directory's own, or the first kept). */
static gboolean
load_dir (const char *dir, GError **error)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  if (!lf_registry_load_directory (registry, dir, error))
    return FALSE;
  GPtrArray *errors = lf_registry_get_load_errors (registry);
  if (errors->len > 0)
    g_propagate_error (error, g_error_copy (g_ptr_array_index (errors, 0)));
  return lf_registry_lookup (registry, "npy") != NULL;
}

START_TEST (test_trusted_plugin_loads)
{
  g_autofree char *dir = plugin_dir ("trusted");
  GError *error = NULL;
  ck_assert (load_dir (dir, &error));
  LF_ASSERT_NO_ERROR (error);
}
END_TEST

START_TEST (test_writable_plugin_file_refused)
{
  g_autofree char *dir = plugin_dir ("writable-file");
  g_autofree char *file = g_build_filename (dir, "npy.so", NULL);
  const struct { mode_t mode; const char *who; } cases[] = {
    { 0666, "writable by every user (mode 0666)" },
    { 0775, "writable by its group (mode 0775)" },
    { 0757, "writable by every user" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      ck_assert_int_eq (g_chmod (file, cases[i].mode), 0);
      GError *error = NULL;
      ck_assert (!load_dir (dir, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, cases[i].who);
      g_autoptr (LfRegistry) registry = lf_registry_new ();
      ck_assert (!lf_registry_load_plugin (registry, file, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, file);
      ck_assert_ptr_null (lf_registry_lookup (registry, "npy"));
    }
}
END_TEST

/* A 1777 directory (like /tmp) holding a 0755 plugin, and a 0775 one. */
START_TEST (test_writable_plugin_directory_refused)
{
  const mode_t modes[] = { 01777, 0777, 0775 };
  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autofree char *name = g_strdup_printf ("writable-dir-%o", (unsigned) modes[i]);
      g_autofree char *dir = plugin_dir (name);
      ck_assert_int_eq (g_chmod (dir, modes[i]), 0);
      GError *error = NULL;
      ck_assert (!load_dir (dir, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "the plugin directory is writable by");
      g_autofree char *file = g_build_filename (dir, "npy.so", NULL);
      g_autoptr (LfRegistry) registry = lf_registry_new ();
      ck_assert (!lf_registry_load_plugin (registry, file, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "the directory is writable by");
      g_chmod (dir, 0700);
    }
}
END_TEST

/* A link in a trusted directory to a plugin in a writable one. */
START_TEST (test_link_to_untrusted_plugin_refused)
{
  g_autofree char *outside = plugin_dir ("link-target");
  ck_assert_int_eq (g_chmod (outside, 0777), 0);
  g_autofree char *dir = lf_test_path ("link-dir");
  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  g_autofree char *target = g_build_filename (outside, "npy.so", NULL);
  g_autofree char *link = g_build_filename (dir, "npy.so", NULL);
  ck_assert_int_eq (symlink (target, link), 0);
  GError *error = NULL;
  ck_assert (!load_dir (dir, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "writable by every user");
  g_chmod (outside, 0700);
}
END_TEST

/* Files of another user (only root can make them here). */
START_TEST (test_foreign_owner_refused)
{
  if (geteuid () != 0)
    return;
  g_autofree char *dir = plugin_dir ("foreign");
  g_autofree char *file = g_build_filename (dir, "npy.so", NULL);
  ck_assert_int_eq (chown (file, 65534, 65534), 0);
  GError *error = NULL;
  ck_assert (!load_dir (dir, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "owned by user 65534");
  ck_assert_int_eq (chown (file, 0, 0), 0);
  ck_assert_int_eq (chown (dir, 65534, 65534), 0);
  ck_assert (!load_dir (dir, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "owned by user 65534");
}
END_TEST

/* Two directories each providing npy: the second is refused as before, and
 * from then on resolving "npy" fails naming both files instead of quietly
 * using the first; other codecs resolve. */
START_TEST (test_name_clash_is_an_error)
{
  g_autofree char *first = plugin_dir ("clash-a");
  g_autofree char *second = plugin_dir ("clash-b");
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  GError *error = NULL;
  ck_assert (lf_registry_load_directory (registry, first, &error));
  g_autoptr (LfCodec) before = lf_registry_resolve (registry, "npy", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_nonnull (before);
  ck_assert (lf_registry_load_directory (registry, second, &error));
  GPtrArray *errors = lf_registry_get_load_errors (registry);
  ck_assert_uint_eq (errors->len, 1);
  ck_assert (g_error_matches (g_ptr_array_index (errors, 0), LF_ERROR,
                              LF_ERROR_DUPLICATE_NAME));
  ck_assert_ptr_null (lf_registry_resolve (registry, "npy", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_DUPLICATE_NAME, "provided by both");
  ck_assert_ptr_null (lf_registry_resolve (registry, "npy(align=64)", &error));
  LF_ASSERT_ERROR (error, LF_ERROR_DUPLICATE_NAME, second);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("plugin-trust");
  TCase *tc = tcase_create ("trust");
  tcase_add_test (tc, test_trusted_plugin_loads);
  tcase_add_test (tc, test_writable_plugin_file_refused);
  tcase_add_test (tc, test_writable_plugin_directory_refused);
  tcase_add_test (tc, test_link_to_untrusted_plugin_refused);
  tcase_add_test (tc, test_foreign_owner_refused);
  tcase_add_test (tc, test_name_clash_is_an_error);
  suite_add_tcase (suite, tc);
  return suite;
}
