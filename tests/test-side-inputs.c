/* JSON and side inputs from hostile places: nesting hidden by comments,
 * FIFOs, devices, directories and oversized files named where a manifest,
 * a skeleton or a rules file is read.  Each must fail at once with an
 * error naming the file, never hang, crash or read without end. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "test-common.h"

/* `prefix` followed by `n` copies of `bracket`. */
static char *
deep_text (const char *prefix, char bracket, gsize n)
{
  gsize prefix_length = strlen (prefix);
  char *text = g_malloc (prefix_length + n + 1);
  memcpy (text, prefix, prefix_length);
  memset (text + prefix_length, bracket, n);
  text[prefix_length + n] = '\0';
  return text;
}

/* Texts that hide 100000 levels of nesting from a scan that does not know
 * json-glib's comments (the first crashed json-glib with a stack overflow),
 * and comments in otherwise valid JSON. */
static const char *const comment_prefixes[] = {
  "[/*\"*/", "[/*'*/", "[// \"\n", "{\"a\": /* \" */", "/*\"*/[", "# \"\n[",
};

START_TEST (test_comments_cannot_hide_nesting)
{
  for (gsize i = 0; i < G_N_ELEMENTS (comment_prefixes); i++)
    {
      g_autofree char *text = deep_text (comment_prefixes[i], '[', 100000);
      GError *error = NULL;
      ck_assert_ptr_null (lf_tree_from_json (text, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PARSE, NULL);
      ck_assert_ptr_null (lf_spec_parse_json (NULL, text, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PARSE, NULL);

      g_autofree char *name = g_strdup_printf ("deep-%zu.json", i);
      g_autofree char *path = lf_test_path (name);
      lf_test_write_file (path, text, strlen (text));
      ck_assert_ptr_null (lf_tree_from_json_file (path, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PARSE, path);
    }
}
END_TEST

START_TEST (test_comments_refused)
{
  const char *const texts[] = {
    "[1, /* two */ 2]", "[1 // one\n]", "{\"a\": /* x */ 1}", "# note\n[1]",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      GError *error = NULL;
      ck_assert_ptr_null (lf_tree_from_json (texts[i], &error));
      LF_ASSERT_ERROR (error, LF_ERROR_PARSE, "comment");
    }
  /* Inside strings such characters are only characters. */
  GError *error = NULL;
  g_autoptr (LfNode) tree =
    lf_tree_from_json ("{\"/* not a comment */ # // \": null}", &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (lf_dict_get_key (tree, 0), "/* not a comment */ # // ");
}
END_TEST

/* A manifest holding such a text: the load fails with a parse error naming
 * the manifest. */
START_TEST (test_manifest_hiding_nesting)
{
  g_autofree char *path = lf_test_path ("deep-manifest.eqx");
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (1));
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves_full (path, tree, NULL, NULL, NULL, LF_SAVE_MANIFEST,
                                            &error));
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *manifest = g_strconcat (path, ".json", NULL);
  g_autofree char *text = deep_text ("[/*\"*/", '[', 100000);
  lf_test_write_file (manifest, text, strlen (text));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_PARSE, manifest);
}
END_TEST

/* ---- side files that are not regular files -------------------------------- */

/* Loads `path` (saved with one leaf) after `make_manifest` put something in
 * place of its manifest; asserts the error and that it came at once. */
static void
assert_load_refuses_manifest (const char *name, const char *message,
                              void (*make_manifest) (const char *manifest))
{
  g_autofree char *path = lf_test_path (name);
  g_autoptr (LfNode) tree = lf_list_new_take (1, lf_scalar_new_int (1));
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *manifest = g_strconcat (path, ".json", NULL);
  make_manifest (manifest);
  gint64 start = g_get_monotonic_time ();
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, tree, NULL, NULL, NULL, &error));
  ck_assert_int_lt (g_get_monotonic_time () - start, 2 * G_USEC_PER_SEC);
  ck_assert_msg (error != NULL && strstr (error->message, manifest) != NULL,
                 "error does not name %s", manifest);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, message);
  /* LF_LOAD_IGNORE_MANIFEST still loads. */
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves_full (path, tree, NULL, NULL, NULL,
                                                               LF_LOAD_IGNORE_MANIFEST, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_nonnull (loaded);
}

static void
make_fifo (const char *path)
{
  ck_assert_int_eq (mkfifo (path, 0600), 0);
}

static void
make_dev_zero_link (const char *path)
{
  ck_assert_int_eq (symlink ("/dev/zero", path), 0);
}

static void
make_directory (const char *path)
{
  ck_assert_int_eq (g_mkdir (path, 0700), 0);
}

START_TEST (test_manifest_fifo_never_blocks)
{
  assert_load_refuses_manifest ("fifo-manifest.eqx", "is a FIFO", make_fifo);
}
END_TEST

START_TEST (test_manifest_device_not_read)
{
  assert_load_refuses_manifest ("zero-manifest.eqx", "is a device", make_dev_zero_link);
  assert_load_refuses_manifest ("dir-manifest.eqx", "is a directory", make_directory);
}
END_TEST

/* Skeletons and rules files: the same rules for every side input. */
START_TEST (test_skeleton_and_rules_files)
{
  g_autofree char *fifo = lf_test_path ("side.fifo");
  ck_assert_int_eq (mkfifo (fifo, 0600), 0);
  const char *const refused[][2] = {
    { "/dev/zero", "is a device" }, { "/dev/null", "is a device" },
    { NULL, "is a FIFO" }, { "/", "is a directory" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      const char *path = refused[i][0] != NULL ? refused[i][0] : fifo;
      GError *error = NULL;
      ck_assert_ptr_null (lf_tree_from_json_file (path, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, refused[i][1]);
      ck_assert_ptr_null (lf_spec_load_rules_file (NULL, path, NULL, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, refused[i][1]);
    }
}
END_TEST

/* A file past the cap is refused from its size, before anything is read
 * (a sparse file: no disk is used). */
START_TEST (test_oversized_side_file)
{
  g_autofree char *path = lf_test_path ("huge.json");
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (ftruncate (fd, (off_t) LF_SIDE_FILE_MAX + 1), 0);
  close (fd);
  GError *error = NULL;
  ck_assert_ptr_null (lf_tree_from_json_file (path, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TOO_LARGE, path);

  /* A smaller cap through the public reader; exactly the cap is fine. */
  lf_test_write_file (path, "[1, 2]", 6);
  gsize length = 0;
  g_autofree char *text = lf_read_side_file (path, 6, &length, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (length, 6);
  ck_assert_str_eq (text, "[1, 2]");
  ck_assert_ptr_null (lf_read_side_file (path, 5, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TOO_LARGE, "larger than 5 bytes");
  g_autofree char *missing = lf_test_path ("missing.json");
  ck_assert_ptr_null (lf_read_side_file (missing, 5, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (ENOENT));
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("side-inputs");
  TCase *tc = tcase_create ("json");
  tcase_add_test (tc, test_comments_cannot_hide_nesting);
  tcase_add_test (tc, test_comments_refused);
  tcase_add_test (tc, test_manifest_hiding_nesting);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("files");
  tcase_add_test (tc, test_manifest_fifo_never_blocks);
  tcase_add_test (tc, test_manifest_device_not_read);
  tcase_add_test (tc, test_skeleton_and_rules_files);
  tcase_add_test (tc, test_oversized_side_file);
  suite_add_tcase (suite, tc);
  return suite;
}
