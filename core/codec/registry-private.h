/* Internals of LfRegistry, for the files that fill a registry:
 * plugin-loader.c, func-codec.c and default-registry.c.
 *
 * The files of core/codec depend on each other one way only (keep it so):
 *   codec-ref.c, registry.c, record-info.c   on none of the others;
 *   codec.c            on registry.c (a codec holds its registry), record-info.c;
 *   plugin-loader.c    on registry.c;
 *   func-codec.c       on registry.c, codec.c;
 *   default-registry.c on registry.c, plugin-loader.c;
 *   resolve.c          on codec-ref.c, registry.c, codec.c (it builds codecs
 *                      from references, and lf_registry_resolve is its entry). */
#pragma once

#include <leafio/leafio.h>

/* Checks a codec vtable as lf_registry_register and the plugin loader do:
 * struct size, name form, the slots every codec needs. */
gboolean _lf_registry_check_class (const LfCodecClass *klass, GError **error);

/* Checks `klass` and adds it, unless its name is taken
 * (LF_ERROR_DUPLICATE_NAME); `data` (may be NULL) is then kept as
 * _lf_registry_keep_locked does.  On failure the caller keeps `data`. */
gboolean _lf_registry_add (LfRegistry *registry, const LfCodecClass *klass, gpointer data,
                           GDestroyNotify destroy, GError **error);

void _lf_registry_lock (LfRegistry *registry);
void _lf_registry_unlock (LfRegistry *registry);
/* TRUE when `name` is registered; caller holds the lock. */
gboolean _lf_registry_contains_locked (LfRegistry *registry, const char *name);
/* Adds `klass` under its name; `origin` is the plugin file (copied) or NULL.
 * Caller holds the registry lock and has checked the class. */
void _lf_registry_insert_locked (LfRegistry *registry, const LfCodecClass *klass,
                                 const char *origin);
/* Keeps `data` for the registry's life; `destroy (data)` runs when the
 * registry goes (NULL: kept for the process's life, as plugin modules are,
 * whose vtables may be in use anywhere).  Caller holds the lock. */
void _lf_registry_keep_locked (LfRegistry *registry, gpointer data, GDestroyNotify destroy);
/* Adds `error` (adopted) to lf_registry_get_load_errors().  Takes the lock. */
void _lf_registry_add_load_error (LfRegistry *registry, GError *error);

/* Notes that the plugin file `origin` also claims `name`, which another
 * plugin registered: from then on resolving `name` fails with
 * LF_ERROR_DUPLICATE_NAME naming both files, so no program silently uses
 * whichever came first.  Caller holds the lock. */
void _lf_registry_mark_contested_locked (LfRegistry *registry, const char *name,
                                         const char *origin);
/* FALSE with LF_ERROR_DUPLICATE_NAME when two plugins claim `name`. */
gboolean _lf_registry_check_uncontested (LfRegistry *registry, const char *name,
                                         GError **error);
