/* No code from data, no plugin from where it was not asked for:
 *
 *   - object dtypes (and the pickles numpy writes after them), structured
 *     and dict dtypes, strings, datetimes, raw voids and raw pickles are
 *     refused with a clear error naming the leaf;
 *   - the default registry loads plugins only from LEAFIO_PLUGIN_PATH and
 *     the system directory, in that order, never from the current
 *     directory (also not through empty entries of the variable);
 *     lf_registry_load_plugin() takes a path and never searches the
 *     library path; broken files in a plugin directory are reported and do
 *     not affect the other plugins.
 *
 * The default registry is built once a process, so each policy case runs
 * in a child with its own environment and working directory.  Broken
 * plugin descriptors (bad ABI, missing fields) are tested with the test
 * plugins of tests/plugins in test-plugins. */
#include <errno.h>
#include <unistd.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include "test-common.h"

/* ---- refused records -------------------------------------------------------- */

/* A version 1.0 npy record with dict `dict`, padded as numpy pads it,
 * followed by `payload`. */
static GBytes *
record (const char *dict, const void *payload, gsize payload_size)
{
  GString *text = g_string_new (dict);
  while ((10 + text->len + 1) % 64 != 0)
    g_string_append_c (text, ' ');
  g_string_append_c (text, '\n');
  GByteArray *out = g_byte_array_new ();
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                        (guint8) (text->len & 0xff), (guint8) (text->len >> 8) };
  g_byte_array_append (out, prefix, sizeof prefix);
  g_byte_array_append (out, (const guint8 *) text->str, (guint) text->len);
  g_byte_array_append (out, payload, (guint) payload_size);
  g_string_free (text, TRUE);
  return g_byte_array_free_to_bytes (out);
}

/* The start of the pickle numpy writes for np.array([{'a': 1}, None], dtype=object). */
static const guint8 pickle[] = { 0x80, 0x04, 0x95, 0x4a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x8c, 0x15, 'n', 'u', 'm', 'p', 'y', '.', 'c', 'o',
                                 'r', 'e', '.', 'm', 'u', 'l', 't', 'i', 'a', 'r', 'r',
                                 'a', 'y', 0x94, 0x8c, 0x0c, '_', 'r', 'e', 'c', 'o', 'n',
                                 's', 't', 'r', 'u', 'c', 't', 0x94, 0x93, 0x94, '.' };

/* Loads `bytes` into {'w': float32 (2,)}: must fail with `code`, naming the
 * leaf and containing `needle`. */
static void
assert_refused (GBytes *bytes, LfError code, const char *needle)
{
  g_autoptr (LfNode) like = lf_dict_new_take ("w", lf_array_new_abstract (LF_DTYPE_FLOAT32, 1,
                                                                         (gsize[]) { 2 }), NULL);
  g_autoptr (LfStream) stream = lf_stream_new_for_bytes (bytes);
  GError *error = NULL;
  g_autoptr (LfNode) out = lf_tree_deserialise_leaves_from_stream (stream, like, NULL, NULL,
                                                                   NULL, &error);
  ck_assert_ptr_null (out);
  ck_assert_msg (error != NULL && strstr (error->message, "record 0 at offset 0 (['w'])") != NULL,
                 "%s: %s", needle, error ? error->message : "loaded");
  LF_ASSERT_ERROR (error, code, needle);
}

START_TEST (object_arrays_and_pickles_refused)
{
  g_autoptr (GBytes) object = record ("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                                      pickle, sizeof pickle);
  assert_refused (object, LF_ERROR_UNSUPPORTED, "'|O'");
  g_autoptr (GBytes) object_be = record ("{'descr': '>O', 'fortran_order': False, 'shape': (2,), }",
                                         pickle, sizeof pickle);
  assert_refused (object_be, LF_ERROR_UNSUPPORTED, "'>O'");
  /* A bare pickle where a record should be: not an npy record at all. */
  g_autoptr (GBytes) bare = g_bytes_new_static (pickle, sizeof pickle);
  assert_refused (bare, LF_ERROR_CORRUPT, "not an npy record");
}
END_TEST

START_TEST (structured_and_other_dtypes_refused)
{
  static const struct { const char *dict; LfError code; const char *needle; } cases[] = {
    { "{'descr': [('x', '<f4'), ('y', '<i8')], 'fortran_order': False, 'shape': (2,), }",
      LF_ERROR_UNSUPPORTED, "structured dtype refused" },
    { "{'descr': {'names': ['x'], 'formats': ['<f4']}, 'fortran_order': False, 'shape': (2,), }",
      LF_ERROR_UNSUPPORTED, "dict dtype refused" },
    { "{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'<U5'" },
    { "{'descr': '|S3', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'|S3'" },
    { "{'descr': '<M8[D]', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED,
      "'<M8[D]'" },
    { "{'descr': '<m8[s]', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED,
      "'<m8[s]'" },
    { "{'descr': '|V8', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'|V8'" },
    { "{'descr': '<f16', 'fortran_order': False, 'shape': (2,), }", LF_ERROR_UNSUPPORTED, "'<f16'" },
  };
  guint8 data[64] = { 0 };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) bytes = record (cases[i].dict, data, sizeof data);
      assert_refused (bytes, cases[i].code, cases[i].needle);
    }
}
END_TEST

/* ---- plugin search policy ------------------------------------------------------ */

static const char *
built_npy_plugin (void)
{
  static char *path;
  if (path == NULL)
    path = g_build_filename (lf_test_top_builddir (), "plugins", ".libs", "npy.so", NULL);
  ck_assert_msg (g_file_test (path, G_FILE_TEST_IS_REGULAR), "%s not built", path);
  return path;
}

/* A new directory holding `n` files: copies of npy.so named `names`. */
static char *
plugin_dir (const char *what, const char *const *names, gsize n)
{
  static int counter;
  g_autofree char *leaf = g_strdup_printf ("%s-%d", what, counter++);
  char *dir = lf_test_path (leaf);
  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  g_autoptr (GBytes) so = lf_test_read_file (built_npy_plugin ());
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *to = g_build_filename (dir, names[i], NULL);
      lf_test_write_file (to, g_bytes_get_data (so, NULL), g_bytes_get_size (so));
    }
  return dir;
}

typedef struct {
  const char *cwd;          /* chdir here first (NULL: stay) */
  const char *plugin_path;  /* LEAFIO_PLUGIN_PATH (NULL: unset) */
  const char *system_dir;   /* LEAFIO_PLUGIN_SYSTEM_DIR (NULL: unset) */
  const char *npy_origin;   /* expected origin of "npy", NULL: not loaded */
  guint n_errors;           /* expected load errors */
  const char *error_needle; /* in the first load error */
} Policy;

/* In a child: the default registry under `p`'s environment; exit status 0
 * when it loaded what `p` expects, else a code saying what differed. */
static int
check_policy_in_child (const Policy *p)
{
  if (p->cwd != NULL && chdir (p->cwd) != 0)
    return 10;
  if (p->plugin_path != NULL)
    g_setenv ("LEAFIO_PLUGIN_PATH", p->plugin_path, TRUE);
  else
    g_unsetenv ("LEAFIO_PLUGIN_PATH");
  if (p->system_dir != NULL)
    g_setenv ("LEAFIO_PLUGIN_SYSTEM_DIR", p->system_dir, TRUE);
  else
    g_unsetenv ("LEAFIO_PLUGIN_SYSTEM_DIR");
  LfRegistry *registry = lf_registry_get_default ();
  const char *origin = lf_registry_get_origin (registry, "npy");
  gboolean found = lf_registry_lookup (registry, "npy") != NULL;
  if (p->npy_origin == NULL && found)
    {
      fprintf (stderr, "npy loaded from %s\n", origin ? origin : "(in-process)");
      return 11;
    }
  if (p->npy_origin != NULL && (origin == NULL || strcmp (origin, p->npy_origin) != 0))
    {
      fprintf (stderr, "npy origin %s, expected %s\n", origin ? origin : "none", p->npy_origin);
      return 12;
    }
  GPtrArray *errors = lf_registry_get_load_errors (registry);
  for (guint i = 0; i < errors->len; i++)
    fprintf (stderr, "load error: %s\n", ((GError *) errors->pdata[i])->message);
  if (errors->len != p->n_errors)
    return 13;
  if (p->error_needle != NULL
      && strstr (((GError *) errors->pdata[0])->message, p->error_needle) == NULL)
    return 14;
  return 0;
}

static void
assert_policy (const Policy *p)
{
  fflush (stdout);
  fflush (stderr);
  pid_t child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    _exit (check_policy_in_child (p));
  int status = 0;
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "LEAFIO_PLUGIN_PATH=%s SYSTEM_DIR=%s cwd=%s: child exit %d",
                 p->plugin_path ? p->plugin_path : "(unset)",
                 p->system_dir ? p->system_dir : "(unset)", p->cwd ? p->cwd : ".",
                 WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

START_TEST (current_directory_never_searched)
{
  static const char *const npy[] = { "npy.so" };
  g_autofree char *cwd = plugin_dir ("cwd", npy, 1);
  g_autofree char *empty = plugin_dir ("empty", NULL, 0);
  /* Unset, empty, only separators, empty entries around a real directory:
   * none of them means the current directory. */
  const char *paths[] = { NULL, "", ":", "::", NULL };
  g_autofree char *around = g_strdup_printf (":%s::", empty);
  paths[4] = around;
  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      Policy p = { cwd, paths[i], "", NULL, 0, NULL };
      assert_policy (&p);
    }
  /* The system directory set empty means none, not the current one. */
  Policy unset_system = { cwd, empty, "", NULL, 0, NULL };
  assert_policy (&unset_system);
}
END_TEST

START_TEST (plugin_path_then_system_dir)
{
  static const char *const npy[] = { "npy.so" };
  g_autofree char *first = plugin_dir ("first", npy, 1);
  g_autofree char *second = plugin_dir ("second", npy, 1);
  g_autofree char *system = plugin_dir ("system", npy, 1);
  g_autofree char *empty = plugin_dir ("nothing", NULL, 0);
  g_autofree char *first_npy = g_build_filename (first, "npy.so", NULL);
  g_autofree char *second_npy = g_build_filename (second, "npy.so", NULL);
  g_autofree char *system_npy = g_build_filename (system, "npy.so", NULL);

  Policy only_env = { empty, first, "", first_npy, 0, NULL };
  assert_policy (&only_env);
  /* Earlier directories win; the later copy is a duplicate, reported. */
  g_autofree char *both = g_strdup_printf ("%s:%s", second, first);
  Policy ordered = { empty, both, "", second_npy, 1, "already registered" };
  assert_policy (&ordered);
  /* LEAFIO_PLUGIN_PATH comes before the system directory. */
  Policy before_system = { empty, first, system, first_npy, 1, system_npy };
  assert_policy (&before_system);
  Policy system_only = { empty, NULL, system, system_npy, 0, NULL };
  assert_policy (&system_only);
  /* A missing directory is reported and does not stop the others. */
  g_autofree char *missing = g_strdup_printf ("%s/does-not-exist:%s", empty, first);
  Policy with_missing = { empty, missing, "", first_npy, 1, "does-not-exist" };
  assert_policy (&with_missing);
}
END_TEST

START_TEST (broken_files_do_not_affect_others)
{
  static const char *const npy[] = { "npy.so", "npy.so.bak", "other.so" };
  g_autofree char *dir = plugin_dir ("mixed", npy, 3);
  g_autofree char *bad = g_build_filename (dir, "bad.so", NULL);
  lf_test_write_file (bad, "not an ELF file", 15);
  g_autofree char *readme = g_build_filename (dir, "README", NULL);
  lf_test_write_file (readme, "text", 4);

  g_autoptr (LfRegistry) registry = lf_registry_new ();
  GError *error = NULL;
  ck_assert (lf_registry_load_directory (registry, dir, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autofree char *npy_path = g_build_filename (dir, "npy.so", NULL);
  ck_assert_str_eq (lf_registry_get_origin (registry, "npy"), npy_path);
  /* bad.so cannot be opened; other.so is npy.so under another name.  The
   * .bak copy and README are not plugins at all. */
  GPtrArray *errors = lf_registry_get_load_errors (registry);
  ck_assert_uint_eq (errors->len, 2);
  GError *e0 = g_error_copy (errors->pdata[0]);
  g_autofree char *bad_needle = g_strdup_printf ("%s: cannot load plugin", bad);
  LF_ASSERT_ERROR (e0, LF_ERROR_PLUGIN_LOAD, bad_needle);
  GError *e1 = g_error_copy (errors->pdata[1]);
  LF_ASSERT_ERROR (e1, LF_ERROR_PLUGIN_INVALID, "calls itself 'npy' but the file is named 'other'");
  /* The loaded codec works. */
  g_autoptr (LfCodec) codec = lf_registry_resolve (registry, "npy", &error);
  LF_ASSERT_NO_ERROR (error);
}
END_TEST

/* A file name without a slash is a path relative to the current directory,
 * not a name for the dynamic linker to search for in the library path. */
START_TEST (load_plugin_never_searches)
{
  g_autofree char *empty = plugin_dir ("no-search", NULL, 0);
  g_autofree char *saved = g_get_current_dir ();
  ck_assert_int_eq (chdir (empty), 0);
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  GError *error = NULL;
  /* In the linker's cache on every glibc system; not in `empty`. */
  gboolean ok = lf_registry_load_plugin (registry, "libc.so.6", &error);
  ck_assert_int_eq (chdir (saved), 0);
  ck_assert (!ok);
  ck_assert_msg (strstr (error->message, "no " LF_PLUGIN_SYMBOL) == NULL,
                 "the library path was searched: %s", error->message);
  LF_ASSERT_ERROR (error, LF_ERROR_PLUGIN_LOAD, "libc.so.6: cannot load plugin");

  static const char *const npy[] = { "npy.so" };
  g_autofree char *here = plugin_dir ("here", npy, 1);
  ck_assert_int_eq (chdir (here), 0);
  ok = lf_registry_load_plugin (registry, "npy.so", &error);
  ck_assert_int_eq (chdir (saved), 0);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (ok);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("safety");
  TCase *refusals = tcase_create ("refusals");
  tcase_add_test (refusals, object_arrays_and_pickles_refused);
  tcase_add_test (refusals, structured_and_other_dtypes_refused);
  suite_add_tcase (s, refusals);
  TCase *plugins = tcase_create ("plugin-policy");
  tcase_set_timeout (plugins, 120);
  tcase_add_test (plugins, current_directory_never_searched);
  tcase_add_test (plugins, plugin_path_then_system_dir);
  tcase_add_test (plugins, broken_files_do_not_affect_others);
  tcase_add_test (plugins, load_plugin_never_searches);
  suite_add_tcase (s, plugins);
  return s;
}
