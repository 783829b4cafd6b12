/* The process-wide default registry: the plugins of LEAFIO_PLUGIN_PATH,
 * then those of the system plugin directory, loaded once on first use. */
#include "config.h"
#include <sys/auxv.h>
#include "registry-private.h"

static gboolean
untrusted_environment (void)
{
  /* setuid/setgid: the environment belongs to someone else. */
  return getauxval (AT_SECURE) != 0;
}

static void
load_dir_keeping_errors (LfRegistry *registry, const char *dir)
{
  GError *error = NULL;
  if (!lf_registry_load_directory (registry, dir, &error))
    _lf_registry_add_load_error (registry, error);
}

static gpointer
create_default (gpointer unused)
{
  LfRegistry *registry = lf_registry_new ();
  gboolean trusted = !untrusted_environment ();
  const char *path = trusted ? g_getenv ("LEAFIO_PLUGIN_PATH") : NULL;
  if (path != NULL)
    {
      g_auto (GStrv) dirs = g_strsplit (path, G_SEARCHPATH_SEPARATOR_S, -1);
      for (char **dir = dirs; *dir != NULL; dir++)
        if (**dir != '\0' && !g_path_is_absolute (*dir))
          /* Relative to whatever the current directory is at first use. */
          _lf_registry_add_load_error (registry,
                                       g_error_new (LF_ERROR, LF_ERROR_PLUGIN_LOAD,
                                                    "LEAFIO_PLUGIN_PATH entry '%s' is relative: "
                                                    "ignored (give plugin directories as "
                                                    "absolute paths)", *dir));
        else if (**dir != '\0')
          load_dir_keeping_errors (registry, *dir);
    }
  const char *system_dir = trusted ? g_getenv ("LEAFIO_PLUGIN_SYSTEM_DIR") : NULL;
  /* The installed directory may be missing (not installed yet); one the
   * environment names is expected, and is reported when it is not there. */
  gboolean named = system_dir != NULL;
  if (system_dir == NULL)
    system_dir = LF_PLUGIN_DIR;
  if (*system_dir != '\0' && (named || g_file_test (system_dir, G_FILE_TEST_IS_DIR)))
    load_dir_keeping_errors (registry, system_dir);
  return registry;
}

LfRegistry *
lf_registry_get_default (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, create_default, NULL);
  return once.retval;
}
