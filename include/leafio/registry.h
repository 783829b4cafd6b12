/**
 * SECTION:registry
 * @title: The codec registry
 * @short_description: codec names to classes, and plugin loading
 *
 * A registry maps codec names to codec classes.  Classes come from plugins
 * (shared objects loaded with dlopen, each exporting one #LfPluginDesc) or
 * are registered in-process.  Names are unique: registering a name twice is
 * %LF_ERROR_DUPLICATE_NAME, never a silent replacement.  A plugin's codecs
 * are added all together or not at all.
 *
 * The default registry loads, in order, the directories listed in
 * `LEAFIO_PLUGIN_PATH` (colon-separated) and the installed plugin directory
 * (`LEAFIO_PLUGIN_SYSTEM_DIR` overrides it; empty means none).  Both
 * variables are ignored in setuid/setgid processes.  The current directory
 * is never searched implicitly.  A broken plugin does not stop the others:
 * its error is kept and lf_registry_get_load_errors() lists it.
 *
 * Trust (docs/PLUGINS.md): a plugin file, the directory holding it, and
 * where a symbolic link to it leads must be owned by root or the user
 * running the program and writable by nobody else (a 1777 directory such
 * as /tmp is refused); otherwise LF_ERROR_PLUGIN_LOAD "...: refused: ...".
 * A relative LEAFIO_PLUGIN_PATH entry is ignored and reported as a load
 * error.  A codec name that a second plugin also provides cannot be
 * resolved (LF_ERROR_DUPLICATE_NAME naming both files) until one of them
 * is removed: no program silently uses whichever loaded first.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/codec.h>

G_BEGIN_DECLS

/**
 * lf_registry_new:
 *
 * Makes an empty registry, for programs that load their own plugins.
 *
 * Returns: (transfer full): an empty registry.
 *
 * Since: 0.1
 */
LF_API LfRegistry *lf_registry_new (void);
/**
 * lf_registry_ref:
 * @registry: a registry
 *
 * Adds a reference.
 *
 * Returns: (transfer full): @registry, with a reference added.
 *
 * Since: 0.1
 */
LF_API LfRegistry *lf_registry_ref (LfRegistry *registry);
/**
 * lf_registry_unref:
 * @registry: (nullable) (transfer full): a registry
 *
 * Drops a reference; with the last one the registry's in-process codecs'
 * destroy functions run.
 *
 * Since: 0.1
 */
LF_API void lf_registry_unref (LfRegistry *registry);

/**
 * lf_registry_get_default:
 *
 * The process-wide default registry, loaded on first use (thread-safe).
 *
 * Returns: (transfer none): the registry; it lives until the process
 *   exits.
 *
 * Since: 0.1
 */
LF_API LfRegistry *lf_registry_get_default (void);

/**
 * lf_registry_load_plugin:
 * @registry: a registry
 * @filename: the plugin's path (no search)
 * @error: return location for a #GError, or %NULL
 *
 * Loads one plugin and registers its codecs.  On failure nothing is
 * registered.
 *
 * Returns: %TRUE, or %FALSE with an error naming the file:
 *   %LF_ERROR_PLUGIN_LOAD (dlopen failed, symbol missing),
 *   %LF_ERROR_PLUGIN_ABI, %LF_ERROR_PLUGIN_INVALID (a field, or a codec's
 *   vtable, is malformed; the plugin name differs from the file's
 *   basename), %LF_ERROR_DUPLICATE_NAME, or the plugin's own init error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_registry_load_plugin (LfRegistry *registry, const char *filename,
                                         GError **error);
/**
 * lf_registry_load_directory:
 * @registry: a registry
 * @directory: a directory of plugins
 * @error: return location for a #GError, or %NULL
 *
 * Loads every "*.so" in @directory in name order.  Plugins that fail are
 * skipped and their errors kept (lf_registry_get_load_errors()).
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO only when the directory
 *   cannot be read.
 *
 * Since: 0.1
 */
LF_API gboolean lf_registry_load_directory (LfRegistry *registry, const char *directory,
                                            GError **error);
/**
 * lf_registry_get_load_errors:
 * @registry: a registry
 *
 * What went wrong with the plugins that did not load.
 *
 * Returns: (transfer none) (element-type GError): the errors of plugins
 *   that failed to load.
 *
 * Since: 0.1
 */
LF_API GPtrArray *lf_registry_get_load_errors (LfRegistry *registry);

/**
 * lf_registry_register:
 * @registry: a registry
 * @klass: a class that lives at least as long as the registry
 * @error: return location for a #GError, or %NULL
 *
 * Registers a codec class in-process.  The vtable is validated as a
 * plugin's is.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_PLUGIN_INVALID or
 *   %LF_ERROR_DUPLICATE_NAME.
 *
 * Since: 0.1
 */
LF_API gboolean lf_registry_register (LfRegistry *registry, const LfCodecClass *klass,
                                      GError **error);

/**
 * LfSerialiseFunc:
 * @out: the stream to write to
 * @path: the leaf's path
 * @leaf: (transfer none): the leaf
 * @user_data: the data given to lf_registry_register_func()
 * @error: return location for a #GError, or %NULL
 *
 * Writes a leaf's record, like a Python function in Equinox's filter_spec.
 *
 * Returns: %TRUE, or %FALSE with @error set.
 *
 * Since: 0.1
 */
typedef gboolean (*LfSerialiseFunc) (LfStream *out, const LfPath *path, LfNode *leaf,
                                     gpointer user_data, GError **error);
/**
 * LfDeserialiseFunc:
 * @in: the stream at the record's start
 * @path: the leaf's path
 * @like: (nullable) (transfer none): the leaf of `like`
 * @user_data: the data given to lf_registry_register_func()
 * @error: return location for a #GError, or %NULL
 *
 * Reads a leaf's record back.
 *
 * Returns: (transfer full) (nullable): the loaded leaf, or %NULL with
 *   @error set.
 *
 * Since: 0.1
 */
typedef LfNode *(*LfDeserialiseFunc) (LfStream *in, const LfPath *path, LfNode *like,
                                      gpointer user_data, GError **error);
/**
 * lf_registry_register_func:
 * @registry: a registry
 * @name: the codec's name
 * @description: (nullable): one line for `leafio codecs`
 * @handles: (nullable): which leaves get a record; %NULL: every leaf
 * @serialise: writes a record
 * @deserialise: reads a record
 * @user_data: for the functions
 * @destroy: (nullable): called with @user_data when the registry goes
 * @error: return location for a #GError, or %NULL
 *
 * Registers a codec built from two plain functions.  On failure @destroy
 * is not called: the caller keeps @user_data.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_PLUGIN_INVALID (a bad name) or
 *   %LF_ERROR_DUPLICATE_NAME.
 *
 * Since: 0.1
 */
LF_API gboolean lf_registry_register_func (LfRegistry *registry, const char *name,
                                           const char *description,
                                           gboolean (*handles) (const LfNode *leaf),
                                           LfSerialiseFunc serialise,
                                           LfDeserialiseFunc deserialise,
                                           gpointer user_data, GDestroyNotify destroy,
                                           GError **error);

/**
 * lf_registry_lookup:
 * @registry: a registry
 * @name: a codec name
 *
 * Looks a codec class up by name.
 *
 * Returns: (transfer none) (nullable): the class registered as @name, or
 *   %NULL.
 *
 * Since: 0.1
 */
LF_API const LfCodecClass *lf_registry_lookup (LfRegistry *registry, const char *name);
/**
 * lf_registry_get_origin:
 * @registry: a registry
 * @name: a codec name
 *
 * Where a codec came from.
 *
 * Returns: (transfer none) (nullable): the plugin file that provided
 *   @name, or %NULL for in-process codecs and unknown names.
 *
 * Since: 0.1
 */
LF_API const char *lf_registry_get_origin (LfRegistry *registry, const char *name);
/**
 * lf_registry_list:
 * @registry: a registry
 *
 * The names of the registered codecs.
 *
 * Returns: (transfer full) (array zero-terminated=1): the registered
 *   names, sorted.  Free with g_strfreev().
 *
 * Since: 0.1
 */
LF_API char **lf_registry_list (LfRegistry *registry);

/**
 * lf_registry_resolve:
 * @registry: a registry
 * @reference: `name` or `name(key=value, ...)`, with nested references as
 *   values
 * @error: return location for a #GError, or %NULL
 *
 * Parses a codec reference and returns a configured codec.
 *
 * Returns: (transfer full) (nullable): the codec, or %NULL with
 *   %LF_ERROR_PARSE naming the position in @reference and what was
 *   expected, %LF_ERROR_UNKNOWN_CODEC listing the registered names, or
 *   %LF_ERROR_OPTIONS from the codec's option checks.
 *
 * Since: 0.1
 */
LF_API LfCodec *lf_registry_resolve (LfRegistry *registry, const char *reference,
                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfRegistry, lf_registry_unref)

G_END_DECLS
