/* Internals of side-file.c. */
#pragma once

#include <sys/stat.h>
#include <leafio/leafio.h>

/* lf_read_side_file(), also filling `st` with what fstat said of the file
 * that was read (the manifest check notices a save that replaced it), and
 * setting *missing (may be NULL) when the error is that nothing of that
 * name exists (or can exist: a name too long). */
G_GNUC_INTERNAL char *_lf_read_side_file_stat (const char *path, gsize max_size,
                                               gsize *length, struct stat *st,
                                               gboolean *missing, GError **error);

/* "a directory", "a FIFO", "a device", "a socket" or "not a regular file",
 * for messages about a path of the wrong type. */
G_GNUC_INTERNAL const char *_lf_file_type_name (mode_t mode);
