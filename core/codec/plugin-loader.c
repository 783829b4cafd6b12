/* Loads codec plugins: dlopen, find the descriptor, check every field, then
 * register all of the plugin's codecs or none.  Every failure is a GError
 * naming the file; the process goes on. */
#include "config.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "registry-private.h"

typedef const LfPluginDesc *(*GetDescFunc) (void);

static gboolean
check_string (const char *filename, const char *field, const char *value, GError **error)
{
  if (value != NULL && value[0] != '\0')
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
               "%s: plugin descriptor has an empty %s", filename, field);
  return FALSE;
}

/* The plugin name must equal the file name without ".so", so the name a user
 * sees is the file they can find. */
static gboolean
check_name_matches_file (const char *filename, const char *name, GError **error)
{
  g_autofree char *base = g_path_get_basename (filename);
  char *dot = strrchr (base, '.');
  if (dot != NULL && strcmp (dot, ".so") == 0)
    *dot = '\0';
  if (strcmp (base, name) == 0)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
               "%s: plugin calls itself '%s' but the file is named '%s'", filename,
               name, base);
  return FALSE;
}

static gboolean
check_descriptor (const char *filename, const LfPluginDesc *desc, GError **error)
{
  if (desc == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "%s: " LF_PLUGIN_SYMBOL "() returned NULL", filename);
      return FALSE;
    }
  if (desc->abi_version != LF_PLUGIN_ABI_VERSION)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_ABI,
                   "%s: plugin built for plugin ABI %u, this library has ABI %u%s",
                   filename, desc->abi_version, LF_PLUGIN_ABI_VERSION,
                   desc->abi_version < LF_PLUGIN_ABI_VERSION
                       ? " (rebuild it against this leafio; see docs/PLUGINS.md)" : "");
      return FALSE;
    }
  if (desc->struct_size < G_STRUCT_OFFSET (LfPluginDesc, reserved))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "%s: plugin descriptor has struct_size %u, expected at least %u",
                   filename, desc->struct_size,
                   (guint) G_STRUCT_OFFSET (LfPluginDesc, reserved));
      return FALSE;
    }
  if (!check_string (filename, "name", desc->name, error)
      || !check_string (filename, "version", desc->version, error)
      || !check_string (filename, "description", desc->description, error)
      || !check_name_matches_file (filename, desc->name, error))
    return FALSE;
  if (desc->codecs == NULL || desc->codecs[0] == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "%s: plugin '%s' lists no codecs", filename, desc->name);
      return FALSE;
    }
  for (gsize i = 0; desc->codecs[i] != NULL; i++)
    {
      GError *local = NULL;
      if (!_lf_registry_check_class (desc->codecs[i], &local))
        {
          g_propagate_prefixed_error (error, local, "%s: ", filename);
          return FALSE;
        }
      for (gsize j = 0; j < i; j++)
        if (strcmp (desc->codecs[i]->name, desc->codecs[j]->name) == 0)
          {
            g_set_error (error, LF_ERROR, LF_ERROR_DUPLICATE_NAME,
                         "%s: plugin lists codec '%s' twice", filename,
                         desc->codecs[i]->name);
            return FALSE;
          }
    }
  return TRUE;
}

/* ---- trust -----------------------------------------------------------------
 *
 * Loading a plugin runs its code in the process, so a plugin file, and the
 * directory that holds it, must be as trustworthy as the program: owned by
 * root or by the user running it, and writable by nobody else (the rules of
 * OpenSSH's StrictModes; a 1777 directory such as /tmp fails them, since
 * anyone may put a file there).  Symbolic links are followed: the file they
 * name and its directory are checked too. */

static gboolean
owner_trusted (const struct stat *st)
{
  return st->st_uid == 0 || st->st_uid == geteuid ();
}

/* Checks `path` (a file or a directory), described as `what`. */
static gboolean
check_trusted (const char *path, const char *what, GError **error)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return TRUE; /* dlopen or g_dir_open reports what is missing */
  if (!owner_trusted (&st))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_LOAD,
                   "%s: refused: the %s is owned by user %u, neither root nor the user "
                   "running this program", path, what, (guint) st.st_uid);
      return FALSE;
    }
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_LOAD,
                   "%s: refused: the %s is writable by %s (mode %04o); plugins are loaded "
                   "only from files and directories that only their owner can change",
                   path, what, (st.st_mode & S_IWOTH) ? "every user" : "its group",
                   (guint) (st.st_mode & 07777));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_trusted_directory_of (const char *file, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (file);
  return check_trusted (dir, "directory", error);
}

/* The plugin file, its directory, and where a link leads. */
static gboolean
check_plugin_trusted (const char *path, GError **error)
{
  if (!check_trusted_directory_of (path, error) || !check_trusted (path, "file", error))
    return FALSE;
  char *resolved = realpath (path, NULL);
  if (resolved == NULL)
    return TRUE;
  gboolean ok = strcmp (resolved, path) == 0
                || (check_trusted_directory_of (resolved, error)
                    && check_trusted (resolved, "file", error));
  free (resolved);
  return ok;
}

/* Checks names against the registry and inserts all codecs, under one lock
 * so a concurrent load cannot slip a duplicate in between. */
static gboolean
insert_all (LfRegistry *registry, const char *filename, const LfPluginDesc *desc,
            GError **error)
{
  gboolean ok = TRUE;
  _lf_registry_lock (registry);
  for (gsize i = 0; ok && desc->codecs[i] != NULL; i++)
    if (_lf_registry_contains_locked (registry, desc->codecs[i]->name))
      {
        g_set_error (error, LF_ERROR, LF_ERROR_DUPLICATE_NAME,
                     "%s: codec '%s' is already registered", filename,
                     desc->codecs[i]->name);
        _lf_registry_mark_contested_locked (registry, desc->codecs[i]->name, filename);
        ok = FALSE;
      }
  for (gsize i = 0; ok && desc->codecs[i] != NULL; i++)
    _lf_registry_insert_locked (registry, desc->codecs[i], filename);
  _lf_registry_unlock (registry);
  return ok;
}

gboolean
lf_registry_load_plugin (LfRegistry *registry, const char *filename, GError **error)
{
  g_return_val_if_fail (registry != NULL && filename != NULL, FALSE);
  /* dlopen searches the library path (LD_LIBRARY_PATH, whose empty entries
   * mean the current directory, and the system directories) for a name
   * without a slash; a plugin is only ever the file named. */
  g_autofree char *dl_path = strchr (filename, '/') != NULL ? g_strdup (filename)
                                                            : g_strconcat ("./", filename, NULL);
  if (!check_plugin_trusted (dl_path, error))
    return FALSE;
  /* RTLD_LOCAL: plugins cannot see or clash with each other's symbols. */
  void *handle = dlopen (dl_path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL)
    {
      const char *why = dlerror ();
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_LOAD, "%s: cannot load plugin: %s",
                   filename, why != NULL ? why : "unknown dlopen error");
      return FALSE;
    }
  GetDescFunc get_desc = (GetDescFunc) dlsym (handle, LF_PLUGIN_SYMBOL);
  if (get_desc == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_LOAD,
                   "%s: not a leafio plugin (no " LF_PLUGIN_SYMBOL " symbol)", filename);
      dlclose (handle);
      return FALSE;
    }
  const LfPluginDesc *desc = get_desc ();
  GError *local = NULL;
  if (!check_descriptor (filename, desc, &local)
      || (desc->init != NULL && !desc->init (&local)))
    {
      if (local == NULL)
        g_set_error (&local, LF_ERROR, LF_ERROR_PLUGIN_LOAD,
                     "plugin init failed without saying why");
      if (!g_str_has_prefix (local->message, filename))
        g_prefix_error (&local, "%s: ", filename);
      g_propagate_error (error, local);
      dlclose (handle);
      return FALSE;
    }
  if (!insert_all (registry, filename, desc, error))
    {
      dlclose (handle);
      return FALSE;
    }
  /* Never closed: the plugin's vtables may be in use anywhere. */
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

gboolean
lf_registry_load_directory (LfRegistry *registry, const char *directory, GError **error)
{
  g_return_val_if_fail (registry != NULL && directory != NULL, FALSE);
  GError *local = NULL;
  if (!check_trusted (directory, "plugin directory", error))
    return FALSE;
  GDir *dir = g_dir_open (directory, 0, &local);
  if (dir == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "plugin directory %s: %s", directory,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".so"))
      g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      /* dlopen searches the library path for names without a slash: always
       * pass a path so only this directory is used. */
      g_autofree char *path = g_build_filename (directory, names->pdata[i], NULL);
      if (!lf_registry_load_plugin (registry, path, &local))
        {
          _lf_registry_add_load_error (registry, local);
          local = NULL;
        }
    }
  g_ptr_array_unref (names);
  return TRUE;
}
