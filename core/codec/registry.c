/* The codec registry: a GHashTable from codec name to class, guarded by a
 * mutex so the default registry can be shared between threads.  What fills
 * it lives beside it: plugin-loader.c (.so plugins), func-codec.c (codecs
 * of plain functions), default-registry.c (the process-wide one). */
#include "config.h"
#include <string.h>
#include "registry-private.h"

typedef struct {
  const LfCodecClass *klass;
  char *origin;            /* plugin file, NULL when registered in-process */
} Entry;

typedef struct {
  gpointer data;
  GDestroyNotify destroy;
} Kept;

struct _LfRegistry {
  gatomicrefcount ref_count;
  GMutex lock;
  GHashTable *entries;     /* char *name -> Entry * */
  GArray *kept;            /* Kept: what the registered classes need */
  GPtrArray *load_errors;  /* GError * */
  GHashTable *contested;   /* char *name -> char *message, claimed by two plugins */
};

static void
entry_free (gpointer data)
{
  Entry *entry = data;
  g_free (entry->origin);
  g_free (entry);
}

static void
kept_clear (gpointer data)
{
  Kept *kept = data;
  if (kept->destroy != NULL)
    kept->destroy (kept->data);
}

LfRegistry *
lf_registry_new (void)
{
  LfRegistry *registry = g_new0 (LfRegistry, 1);
  g_atomic_ref_count_init (&registry->ref_count);
  g_mutex_init (&registry->lock);
  registry->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  registry->kept = g_array_new (FALSE, FALSE, sizeof (Kept));
  g_array_set_clear_func (registry->kept, kept_clear);
  registry->load_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  registry->contested = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return registry;
}

LfRegistry *
lf_registry_ref (LfRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, NULL);
  g_atomic_ref_count_inc (&registry->ref_count);
  return registry;
}

void
lf_registry_unref (LfRegistry *registry)
{
  if (registry == NULL || !g_atomic_ref_count_dec (&registry->ref_count))
    return;
  /* The classes first: they may point into what is kept. */
  g_hash_table_unref (registry->entries);
  g_array_unref (registry->kept);
  g_ptr_array_unref (registry->load_errors);
  g_hash_table_unref (registry->contested);
  g_mutex_clear (&registry->lock);
  g_free (registry);
}

/* ---- for the files that fill a registry (registry-private.h) -------------- */

void
_lf_registry_lock (LfRegistry *registry)
{
  g_mutex_lock (&registry->lock);
}

void
_lf_registry_unlock (LfRegistry *registry)
{
  g_mutex_unlock (&registry->lock);
}

gboolean
_lf_registry_contains_locked (LfRegistry *registry, const char *name)
{
  return g_hash_table_contains (registry->entries, name);
}

void
_lf_registry_insert_locked (LfRegistry *registry, const LfCodecClass *klass,
                            const char *origin)
{
  Entry *entry = g_new0 (Entry, 1);
  entry->klass = klass;
  entry->origin = g_strdup (origin);
  g_hash_table_insert (registry->entries, g_strdup (klass->name), entry);
}

void
_lf_registry_keep_locked (LfRegistry *registry, gpointer data, GDestroyNotify destroy)
{
  Kept kept = { data, destroy };
  g_array_append_val (registry->kept, kept);
}

void
_lf_registry_add_load_error (LfRegistry *registry, GError *error)
{
  _lf_registry_lock (registry);
  g_ptr_array_add (registry->load_errors, error);
  _lf_registry_unlock (registry);
}

static gboolean
check_name (const char *name, GError **error)
{
  gboolean ok = name != NULL && g_ascii_isalnum (name[0]);
  for (const char *c = name; ok && *c; c++)
    ok = g_ascii_islower (*c) || g_ascii_isdigit (*c) || *c == '-' || *c == '_';
  if (!ok)
    g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                 "codec name '%s' is not of the form [a-z0-9][a-z0-9_-]*",
                 name ? name : "(null)");
  return ok;
}

gboolean
_lf_registry_check_class (const LfCodecClass *klass, GError **error)
{
  if (klass->struct_size < G_STRUCT_OFFSET (LfCodecClass, class_data))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "codec class has struct_size %u, expected at least %u",
                   klass->struct_size, (guint) G_STRUCT_OFFSET (LfCodecClass, class_data));
      return FALSE;
    }
  if (!check_name (klass->name, error))
    return FALSE;
  const char *missing = NULL;
  if (klass->description == NULL || klass->description[0] == '\0')
    missing = "description";
  else if (klass->serialise == NULL)
    missing = "serialise";
  else if (klass->deserialise == NULL)
    missing = "deserialise";
  else if (klass->free_options != NULL && klass->parse_options == NULL)
    missing = "parse_options (free_options is set)";
  if (missing != NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PLUGIN_INVALID,
                   "codec '%s' has no %s", klass->name, missing);
      return FALSE;
    }
  return TRUE;
}

gboolean
_lf_registry_add (LfRegistry *registry, const LfCodecClass *klass, gpointer data,
                  GDestroyNotify destroy, GError **error)
{
  if (!_lf_registry_check_class (klass, error))
    return FALSE;
  _lf_registry_lock (registry);
  gboolean taken = _lf_registry_contains_locked (registry, klass->name);
  if (!taken)
    {
      _lf_registry_insert_locked (registry, klass, NULL);
      if (data != NULL)
        _lf_registry_keep_locked (registry, data, destroy);
    }
  _lf_registry_unlock (registry);
  if (taken)
    g_set_error (error, LF_ERROR, LF_ERROR_DUPLICATE_NAME,
                 "codec '%s' is already registered", klass->name);
  return !taken;
}

/* ---- the public calls --------------------------------------------------------- */

GPtrArray *
lf_registry_get_load_errors (LfRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, NULL);
  return registry->load_errors;
}

gboolean
lf_registry_register (LfRegistry *registry, const LfCodecClass *klass, GError **error)
{
  g_return_val_if_fail (registry != NULL && klass != NULL, FALSE);
  return _lf_registry_add (registry, klass, NULL, NULL, error);
}

const LfCodecClass *
lf_registry_lookup (LfRegistry *registry, const char *name)
{
  g_return_val_if_fail (registry != NULL && name != NULL, NULL);
  _lf_registry_lock (registry);
  Entry *entry = g_hash_table_lookup (registry->entries, name);
  _lf_registry_unlock (registry);
  return entry != NULL ? entry->klass : NULL;
}

const char *
lf_registry_get_origin (LfRegistry *registry, const char *name)
{
  g_return_val_if_fail (registry != NULL && name != NULL, NULL);
  _lf_registry_lock (registry);
  Entry *entry = g_hash_table_lookup (registry->entries, name);
  _lf_registry_unlock (registry);
  return entry != NULL ? entry->origin : NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char **
lf_registry_list (LfRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, NULL);
  _lf_registry_lock (registry);
  guint n = 0;
  char **names = (char **) g_hash_table_get_keys_as_array (registry->entries, &n);
  char **copy = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    copy[i] = g_strdup (names[i]);
  g_free (names);
  _lf_registry_unlock (registry);
  qsort (copy, n, sizeof (char *), compare_strings);
  return copy;
}

/* ---- names two plugins claim ------------------------------------------------ */

void
_lf_registry_mark_contested_locked (LfRegistry *registry, const char *name,
                                    const char *origin)
{
  Entry *entry = g_hash_table_lookup (registry->entries, name);
  if (entry == NULL || g_hash_table_contains (registry->contested, name))
    return;
  g_hash_table_insert (registry->contested, g_strdup (name),
                       g_strdup_printf ("codec '%s' is provided by both %s and %s; remove one "
                                        "of them (`leafio codecs` lists the plugins)", name,
                                        entry->origin != NULL ? entry->origin : "the program",
                                        origin));
}

gboolean
_lf_registry_check_uncontested (LfRegistry *registry, const char *name, GError **error)
{
  _lf_registry_lock (registry);
  const char *message = g_hash_table_lookup (registry->contested, name);
  if (message != NULL)
    g_set_error_literal (error, LF_ERROR, LF_ERROR_DUPLICATE_NAME, message);
  _lf_registry_unlock (registry);
  return message == NULL;
}
