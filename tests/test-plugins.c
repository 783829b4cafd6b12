/* Broken plugins (tests/plugins/): each failure mode of the loader comes
 * back as its own LF_ERROR_PLUGIN_* code naming the file, registers
 * nothing, and leaves the registry usable. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "test-common.h"

static char *
test_plugin (const char *name)
{
  const char *builddir = g_getenv ("LF_TEST_BUILDDIR");
  return g_strdup_printf ("%s/plugins/.libs/%s.so", builddir ? builddir : ".", name);
}

/* A registry holding the real npy plugin, for the duplicate test. */
static LfRegistry *
registry_with_npy (void)
{
  GError *error = NULL;
  LfRegistry *registry = lf_registry_new ();
  const char *npy = lf_registry_get_origin (lf_registry_get_default (), "npy");
  ck_assert_ptr_nonnull (npy);
  ck_assert (lf_registry_load_plugin (registry, npy, &error));
  LF_ASSERT_NO_ERROR (error);
  return registry;
}

static void
assert_load_fails (LfRegistry *registry, const char *name, LfError code, const char *needle)
{
  GError *error = NULL;
  g_autofree char *path = test_plugin (name);
  g_auto (GStrv) before = lf_registry_list (registry);

  ck_assert_msg (!lf_registry_load_plugin (registry, path, &error), "%s loaded", name);
  ck_assert_msg (error != NULL && strstr (error->message, path) != NULL,
                 "the error does not name %s: %s", path, error ? error->message : "none");
  LF_ASSERT_ERROR (error, code, needle);

  g_auto (GStrv) after = lf_registry_list (registry);
  ck_assert_uint_eq (g_strv_length (after), g_strv_length (before));
}

START_TEST (test_no_descriptor)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  assert_load_fails (registry, "no-descriptor", LF_ERROR_PLUGIN_LOAD, "not a leafio plugin");
}
END_TEST

START_TEST (test_wrong_abi)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  g_autofree char *needle = g_strdup_printf ("plugin ABI %u, this library has ABI %u",
                                             LF_PLUGIN_ABI_VERSION + 41, LF_PLUGIN_ABI_VERSION);
  assert_load_fails (registry, "wrong-abi", LF_ERROR_PLUGIN_ABI, needle);
}
END_TEST

/* A plugin built before codecs described their records. */
START_TEST (test_old_abi)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  assert_load_fails (registry, "old-abi", LF_ERROR_PLUGIN_ABI,
                     "plugin built for plugin ABI 1, this library has ABI 2");
}
END_TEST

START_TEST (test_duplicate_name)
{
  g_autoptr (LfRegistry) registry = registry_with_npy ();
  assert_load_fails (registry, "duplicate-name", LF_ERROR_DUPLICATE_NAME,
                     "codec 'npy' is already registered");
  ck_assert_ptr_null (lf_registry_lookup (registry, "fresh-codec"));
  ck_assert_ptr_nonnull (lf_registry_lookup (registry, "npy"));
}
END_TEST

START_TEST (test_null_vtable_entry)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  assert_load_fails (registry, "null-vtable", LF_ERROR_PLUGIN_INVALID, "deserialise");
}
END_TEST

START_TEST (test_failing_init)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  assert_load_fails (registry, "failing-init", LF_ERROR_UNSUPPORTED, "this plugin needs a GPU");
  ck_assert_ptr_null (lf_registry_lookup (registry, "never-registered"));
}
END_TEST

START_TEST (test_name_mismatch)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  assert_load_fails (registry, "name-mismatch", LF_ERROR_PLUGIN_INVALID,
                     "plugin calls itself 'impostor' but the file is named 'name-mismatch'");
}
END_TEST

START_TEST (test_not_elf)
{
  GError *error = NULL;
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  g_autofree char *path = lf_test_path ("not-elf.so");
  lf_test_write_file (path, "#!/bin/sh\necho not a library\n", 29);
  ck_assert (!lf_registry_load_plugin (registry, path, &error));
  ck_assert (strstr (error->message, path) != NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "cannot load plugin");
}
END_TEST

/* The broken plugins side by side in one directory: the good one loads,
 * each bad one leaves an error, and the registry works. */
START_TEST (test_directory_of_broken_plugins)
{
  GError *error = NULL;
  g_autoptr (LfRegistry) registry = registry_with_npy ();
  const char *names[] = { "good", "no-descriptor", "wrong-abi", "old-abi", "duplicate-name",
                          "null-vtable", "failing-init", "name-mismatch" };
  g_autofree char *dir = lf_test_path ("broken-plugins");
  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *target = test_plugin (names[i]);
      g_autofree char *base = g_strconcat (names[i], ".so", NULL);
      g_autofree char *link = g_build_filename (dir, base, NULL);
      ck_assert_int_eq (symlink (target, link), 0);
    }
  ck_assert (lf_registry_load_directory (registry, dir, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (lf_registry_get_load_errors (registry)->len, G_N_ELEMENTS (names) - 1);
  ck_assert_ptr_nonnull (lf_registry_lookup (registry, "good-a"));
  ck_assert_ptr_nonnull (lf_registry_lookup (registry, "good-b"));
  g_autoptr (LfCodec) codec = lf_registry_resolve (registry, "good-b", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (lf_codec_get_name (codec), "good-b");
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("plugins");
  TCase *tc = tcase_create ("broken");
  tcase_add_test (tc, test_no_descriptor);
  tcase_add_test (tc, test_wrong_abi);
  tcase_add_test (tc, test_old_abi);
  tcase_add_test (tc, test_duplicate_name);
  tcase_add_test (tc, test_null_vtable_entry);
  tcase_add_test (tc, test_failing_init);
  tcase_add_test (tc, test_name_mismatch);
  tcase_add_test (tc, test_not_elf);
  tcase_add_test (tc, test_directory_of_broken_plugins);
  suite_add_tcase (s, tc);
  return s;
}
