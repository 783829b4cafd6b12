/* Internals of atomic-file.c shared with the path saves (serialise.c) and
 * the checkpoint manager. */
#pragma once

#include <leafio/leafio.h>

/* Removes the temporary files of saves of `target` that died, as
 * lf_atomic_file_new() does, but whatever their age: for callers that know
 * no save of `target` can be running (the checkpoint manager, which holds
 * its directory's lock).  Only files with our name form and the tag of
 * their own inode, that nobody holds locked, go.  Best effort. */
G_GNUC_INTERNAL void _lf_atomic_file_remove_abandoned (const char *target);
