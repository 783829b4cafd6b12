/* Internals of atomic-file.c shared with the path saves (serialise.c). */
#pragma once

#include <leafio/leafio.h>

/* Takes an exclusive flock on the directory `file` will be renamed into and
 * returns its descriptor (-1 when the directory cannot be opened or locked:
 * the caller goes on unlocked).  Saves that write a manifest hold it from
 * removing the old manifest to putting the new one in place, so that two
 * saves of one path never leave one's data beside the other's manifest. */
G_GNUC_INTERNAL int _lf_atomic_file_lock_directory (const LfAtomicFile *file);
/* Releases what _lf_atomic_file_lock_directory returned (-1 is allowed). */
G_GNUC_INTERNAL void _lf_atomic_file_unlock_directory (int lock);
