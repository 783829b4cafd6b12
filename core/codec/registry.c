/* The codec registry: a GHashTable from codec name to class, guarded by a
 * mutex so the default registry can be shared between threads. */
#include "config.h"
#include <string.h>
#include <sys/auxv.h>
#include "codec-private.h"
#include "registry-private.h"

typedef struct {
  const LfCodecClass *klass;
  char *origin;            /* plugin file, NULL when registered in-process */
} Entry;

/* A codec made of plain C functions (lf_registry_register_func). */
typedef struct {
  LfCodecClass klass;      /* first: class_data points back to this */
  char *name;
  char *description;
  gboolean (*handles) (const LfNode *leaf);
  LfSerialiseFunc serialise;
  LfDeserialiseFunc deserialise;
  gpointer user_data;
  GDestroyNotify destroy;
} FuncCodec;

struct _LfRegistry {
  gatomicrefcount ref_count;
  GMutex lock;
  GHashTable *entries;     /* char *name -> Entry * */
  GPtrArray *modules;      /* dlopen handles, kept resident */
  GPtrArray *func_codecs;  /* FuncCodec * owned */
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
func_codec_free (gpointer data)
{
  FuncCodec *fc = data;
  if (fc->destroy != NULL)
    fc->destroy (fc->user_data);
  g_free (fc->name);
  g_free (fc->description);
  g_free (fc);
}

LfRegistry *
lf_registry_new (void)
{
  LfRegistry *registry = g_new0 (LfRegistry, 1);
  g_atomic_ref_count_init (&registry->ref_count);
  g_mutex_init (&registry->lock);
  registry->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  /* Plugin modules are never closed: their vtables may be in use anywhere. */
  registry->modules = g_ptr_array_new ();
  registry->func_codecs = g_ptr_array_new_with_free_func (func_codec_free);
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
  g_hash_table_unref (registry->entries);
  g_ptr_array_unref (registry->func_codecs);
  g_ptr_array_unref (registry->modules);
  g_ptr_array_unref (registry->load_errors);
  g_hash_table_unref (registry->contested);
  g_mutex_clear (&registry->lock);
  g_free (registry);
}

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
_lf_registry_keep_module_locked (LfRegistry *registry, gpointer handle)
{
  g_ptr_array_add (registry->modules, handle);
}

GPtrArray *
lf_registry_get_load_errors (LfRegistry *registry)
{
  g_return_val_if_fail (registry != NULL, NULL);
  return registry->load_errors;
}

static gboolean
register_validated (LfRegistry *registry, const LfCodecClass *klass, GError **error)
{
  if (!_lf_codec_class_validate (klass, error))
    return FALSE;
  _lf_registry_lock (registry);
  gboolean taken = _lf_registry_contains_locked (registry, klass->name);
  if (!taken)
    _lf_registry_insert_locked (registry, klass, NULL);
  _lf_registry_unlock (registry);
  if (taken)
    g_set_error (error, LF_ERROR, LF_ERROR_DUPLICATE_NAME,
                 "codec '%s' is already registered", klass->name);
  return !taken;
}

gboolean
lf_registry_register (LfRegistry *registry, const LfCodecClass *klass, GError **error)
{
  g_return_val_if_fail (registry != NULL && klass != NULL, FALSE);
  return register_validated (registry, klass, error);
}

static const FuncCodec *
func_codec (const LfCodec *codec)
{
  return lf_codec_get_class (codec)->class_data;
}

static gboolean
func_handles (const LfCodec *codec, const LfNode *leaf)
{
  const FuncCodec *fc = func_codec (codec);
  return fc->handles == NULL || fc->handles (leaf);
}

static gboolean
func_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                GError **error)
{
  const FuncCodec *fc = func_codec (codec);
  return fc->serialise (out, path, leaf, fc->user_data, error);
}

static LfNode *
func_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                  GError **error)
{
  const FuncCodec *fc = func_codec (codec);
  return fc->deserialise (in, path, like, fc->user_data, error);
}

gboolean
lf_registry_register_func (LfRegistry *registry, const char *name,
                           const char *description, gboolean (*handles) (const LfNode *leaf),
                           LfSerialiseFunc serialise, LfDeserialiseFunc deserialise,
                           gpointer user_data, GDestroyNotify destroy, GError **error)
{
  g_return_val_if_fail (registry != NULL && name != NULL, FALSE);
  g_return_val_if_fail (serialise != NULL && deserialise != NULL, FALSE);
  FuncCodec *fc = g_new0 (FuncCodec, 1);
  fc->name = g_strdup (name);
  fc->description = g_strdup (description != NULL ? description : name);
  fc->handles = handles;
  fc->serialise = serialise;
  fc->deserialise = deserialise;
  fc->user_data = user_data;
  fc->destroy = destroy;
  fc->klass = (LfCodecClass) {
    .struct_size = sizeof (LfCodecClass),
    .name = fc->name,
    .description = fc->description,
    .handles = func_handles,
    .serialise = func_serialise,
    .deserialise = func_deserialise,
    .class_data = fc,
  };
  if (!register_validated (registry, &fc->klass, error))
    {
      fc->destroy = NULL; /* the caller keeps user_data on failure */
      func_codec_free (fc);
      return FALSE;
    }
  _lf_registry_lock (registry);
  g_ptr_array_add (registry->func_codecs, fc);
  _lf_registry_unlock (registry);
  return TRUE;
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

LfCodec *
lf_registry_resolve (LfRegistry *registry, const char *reference, GError **error)
{
  g_return_val_if_fail (registry != NULL && reference != NULL, NULL);
  LfRefAst *ast = _lf_ref_parse (reference, error);
  if (ast == NULL)
    return NULL;
  LfCodec *codec = _lf_codec_new_from_ast (registry, ast, error);
  _lf_ref_free (ast);
  return codec;
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

/* ---- the default registry ------------------------------------------------- */

static gboolean
untrusted_environment (void)
{
  /* setuid/setgid: the environment belongs to someone else. */
  return getauxval (AT_SECURE) != 0;
}

static void
keep_error (LfRegistry *registry, GError *error)
{
  _lf_registry_lock (registry);
  g_ptr_array_add (registry->load_errors, error);
  _lf_registry_unlock (registry);
}

static void
load_dir_keeping_errors (LfRegistry *registry, const char *dir)
{
  GError *error = NULL;
  if (!lf_registry_load_directory (registry, dir, &error))
    keep_error (registry, error);
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
          keep_error (registry, g_error_new (LF_ERROR, LF_ERROR_PLUGIN_LOAD,
                                             "LEAFIO_PLUGIN_PATH entry '%s' is relative: "
                                             "ignored (give plugin directories as absolute "
                                             "paths)", *dir));
        else if (**dir != '\0')
          load_dir_keeping_errors (registry, *dir);
    }
  const char *system_dir = trusted ? g_getenv ("LEAFIO_PLUGIN_SYSTEM_DIR") : NULL;
  if (system_dir == NULL)
    system_dir = LF_PLUGIN_DIR;
  if (*system_dir != '\0' && g_file_test (system_dir, G_FILE_TEST_IS_DIR))
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
