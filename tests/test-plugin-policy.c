/* No plugin from where it was not asked for:
 *
 *   - the default registry loads plugins only from LEAFIO_PLUGIN_PATH and
 *     the system directory, in that order, never from the current
 *     directory (also not through empty entries of the variable);
 *   - lf_registry_load_plugin() takes a path and never lets the dynamic
 *     linker search the library path;
 *   - broken files in a plugin directory are reported, naming the file,
 *     and do not affect the other plugins.
 *
 * The default registry is built once a process, so each policy case runs
 * in a forked child with its own environment and working directory; no
 * test of this program may create the default registry in the parent
 * (under CK_FORK=no every test shares one process).  Children end by
 * exec'ing `sh -c "exit N"`, so valgrind does not count the parent's
 * memory they inherit as their leaks.  Broken plugin descriptors (bad ABI,
 * missing fields) are tested with the plugins of tests/plugins in
 * test-plugins. */
#include <errno.h>
#include <unistd.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include "test-common.h"

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
    lf_test_child_exit (check_policy_in_child (p));
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
  /* So is a system directory the environment names that is not there. */
  g_autofree char *missing_system = g_build_filename (empty, "no-system-dir", NULL);
  Policy system_missing = { empty, first, missing_system, first_npy, 1, "no-system-dir" };
  assert_policy (&system_missing);
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
  ck_assert_ptr_nonnull (codec);
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
  Suite *s = suite_create ("plugin-policy");
  TCase *tc = tcase_create ("plugin-policy");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, current_directory_never_searched);
  tcase_add_test (tc, plugin_path_then_system_dir);
  tcase_add_test (tc, broken_files_do_not_affect_others);
  tcase_add_test (tc, load_plugin_never_searches);
  suite_add_tcase (s, tc);
  return s;
}
