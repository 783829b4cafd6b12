/* leafio: the codec registry.
 *
 * A registry maps codec names to codec classes.  Classes come from plugins
 * (shared objects loaded with dlopen, each exporting one LfPluginDesc) or
 * are registered in-process.  Names are unique: registering a name twice is
 * LF_ERROR_DUPLICATE_NAME, never a silent replacement.  A plugin's codecs
 * are added all together or not at all.
 *
 * The default registry loads, in order, the directories listed in
 * LEAFIO_PLUGIN_PATH (colon-separated) and the installed plugin directory
 * (LEAFIO_PLUGIN_SYSTEM_DIR overrides it; empty means none).  Both
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

/* An empty registry (transfer full). */
LF_API LfRegistry *lf_registry_new (void);
LF_API LfRegistry *lf_registry_ref (LfRegistry *registry);
LF_API void lf_registry_unref (LfRegistry *registry);  /* NULL is allowed */

/* The process-wide default registry, loaded on first use (thread-safe).
 * Transfer none: it lives until the process exits. */
LF_API LfRegistry *lf_registry_get_default (void);

/* Loads the plugin at `filename` (a path: no search).  Errors name the file:
 * LF_ERROR_PLUGIN_LOAD (dlopen failed, symbol missing), LF_ERROR_PLUGIN_ABI,
 * LF_ERROR_PLUGIN_INVALID (a field, or a codec's vtable, is malformed; the
 * plugin name differs from the file's basename), LF_ERROR_DUPLICATE_NAME,
 * or the plugin's own init error.  On failure nothing is registered. */
LF_API gboolean lf_registry_load_plugin (LfRegistry *registry, const char *filename,
                                         GError **error);
/* Loads every "*.so" in `directory` in name order.  Plugins that fail are
 * skipped and their errors kept (lf_registry_get_load_errors).  Returns
 * FALSE only when the directory cannot be read. */
LF_API gboolean lf_registry_load_directory (LfRegistry *registry, const char *directory,
                                            GError **error);
/* Errors of plugins that failed to load (transfer none; GError * items). */
LF_API GPtrArray *lf_registry_get_load_errors (LfRegistry *registry);

/* Registers a class that lives at least as long as the registry.  The
 * vtable is validated as a plugin's is. */
LF_API gboolean lf_registry_register (LfRegistry *registry, const LfCodecClass *klass,
                                      GError **error);

/* Plain C functions as a codec, like a Python function in Equinox's
 * filter_spec.  Return TRUE/the loaded leaf, or set `error`. */
typedef gboolean (*LfSerialiseFunc) (LfStream *out, const LfPath *path, LfNode *leaf,
                                     gpointer user_data, GError **error);
typedef LfNode *(*LfDeserialiseFunc) (LfStream *in, const LfPath *path, LfNode *like,
                                      gpointer user_data, GError **error);
/* Registers a codec `name` built from two functions; `destroy (user_data)`
 * runs when the registry goes.  `handles` may be NULL (every leaf). */
LF_API gboolean lf_registry_register_func (LfRegistry *registry, const char *name,
                                           const char *description,
                                           gboolean (*handles) (const LfNode *leaf),
                                           LfSerialiseFunc serialise,
                                           LfDeserialiseFunc deserialise,
                                           gpointer user_data, GDestroyNotify destroy,
                                           GError **error);

/* The class registered as `name`, or NULL (transfer none). */
LF_API const LfCodecClass *lf_registry_lookup (LfRegistry *registry, const char *name);
/* The plugin file that provided `name`, or NULL for in-process codecs. */
LF_API const char *lf_registry_get_origin (LfRegistry *registry, const char *name);
/* Registered names, sorted (transfer full: g_strfreev). */
LF_API char **lf_registry_list (LfRegistry *registry);

/* Parses a codec reference, `name` or `name(key=value, ...)` with nested
 * references as values, and returns a configured codec (transfer full).
 * LF_ERROR_PARSE names the position in `reference` and what was expected;
 * LF_ERROR_UNKNOWN_CODEC lists the registered names; LF_ERROR_OPTIONS comes
 * from the codec's option checks. */
LF_API LfCodec *lf_registry_resolve (LfRegistry *registry, const char *reference,
                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfRegistry, lf_registry_unref)

G_END_DECLS
