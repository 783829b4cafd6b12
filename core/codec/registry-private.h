/* Internals of LfRegistry shared by registry.c and plugin-loader.c. */
#pragma once

#include <leafio/leafio.h>

/* Adds `klass` under its name; `origin` is the plugin file (copied) or NULL.
 * Caller holds the registry lock and has validated the class. */
void _lf_registry_insert_locked (LfRegistry *registry, const LfCodecClass *klass,
                                 const char *origin);
/* TRUE when `name` is registered; caller holds the lock. */
gboolean _lf_registry_contains_locked (LfRegistry *registry, const char *name);
void _lf_registry_lock (LfRegistry *registry);
void _lf_registry_unlock (LfRegistry *registry);
/* Keeps a plugin's dlopen handle for the registry's life. */
void _lf_registry_keep_module_locked (LfRegistry *registry, gpointer handle);

/* Notes that the plugin file `origin` also claims `name`, which another
 * plugin registered: from then on resolving `name` fails with
 * LF_ERROR_DUPLICATE_NAME naming both files, so no program silently uses
 * whichever came first.  Caller holds the lock. */
void _lf_registry_mark_contested_locked (LfRegistry *registry, const char *name,
                                         const char *origin);
/* FALSE with LF_ERROR_DUPLICATE_NAME when two plugins claim `name`. */
gboolean _lf_registry_check_uncontested (LfRegistry *registry, const char *name,
                                         GError **error);
