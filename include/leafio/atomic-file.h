/**
 * SECTION:atomic-file
 * @title: Atomic files
 * @short_description: replacing a file atomically
 *
 * An #LfAtomicFile is a temporary file beside a target path (in the
 * target's directory, so that the final rename stays within one
 * filesystem), named so that no file of the user's can be mistaken for it
 * (docs/RELIABILITY.md).  The caller writes the new contents through its
 * descriptor, or opens it by its path (as MPI-IO does), then
 * lf_atomic_file_commit() renames it over the target.  Until that rename
 * the target is untouched, and a reader sees the old file or the new one,
 * never half of one.  This is how lf_tree_serialise_leaves() saves paths.
 *
 * What is replaced (docs/RELIABILITY.md, "Saving through links"):
 * - a new name or an existing regular file: that name;
 * - a symbolic link to a regular file: the file the link names, in its own
 *   directory; the link stays (so `latest.eqx -> step_100.eqx` keeps
 *   pointing at step_100.eqx, which holds the new contents, as when
 *   Equinox writes through the link);
 * - a symbolic link to anything else (a directory, a device, a FIFO), a
 *   dangling link, or a target that is itself not a regular file: refused
 *   by lf_atomic_file_new() with LF_ERROR_IO, nothing created;
 * - a file with other hard links: the name given gets the new file; the
 *   other names keep the old contents (a rename replaces one name).
 *
 * The new file gets the replaced file's permissions, or, for a new target,
 * 0666 less the umask (as open (O_CREAT, 0666) would give).  Until the
 * commit the temporary file is 0600.
 *
 * The temporary file is named DIR/.NAME.leafio-tmp.RRRRRR.TTTTTTTT, with
 * NAME cut short where needed so that the name fits the directory's
 * NAME_MAX (any name the filesystem accepts can be the target), RRRRRR
 * random and TTTTTTTT a tag derived from the name, the file's inode number
 * and the user.
 *
 * An uncommitted file is removed by lf_atomic_file_free(); a failed commit
 * removes it too.  A temporary file whose process was killed stays behind
 * until the next save of the same target, which removes it only when all
 * of these hold: it has the name form above and the tag of its own inode
 * (so a user's `.model.eqx.backup`, or a copy of one of our files, is
 * never taken for ours), belongs to the caller's user, is a regular file
 * nobody has written to for a minute, and no process holds the flock every
 * live save holds on its temporary file.  One whose directory became
 * read-only after it was made cannot be removed.  A program that wants no
 * temporary left on SIGINT or SIGTERM removes it in its own handler, from a
 * copy of lf_atomic_file_get_temporary_path() kept until
 * lf_atomic_file_free() has returned (the `leafio` tool does).
 *
 * An #LfAtomicFile is not thread-safe; separate ones may be used from
 * separate threads.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>

G_BEGIN_DECLS

/**
 * LfAtomicFile:
 *
 * A temporary file that replaces its target on commit.
 *
 * Since: 0.1
 */
typedef struct _LfAtomicFile LfAtomicFile;

/**
 * lf_atomic_file_new:
 * @target: the file to replace; not opened or changed
 * @error: return location for a #GError, or %NULL
 *
 * Creates the temporary file for @target and notes the permissions the
 * result will get.  Finish with lf_atomic_file_free(), after
 * lf_atomic_file_commit() or instead of it.
 *
 * Returns: (transfer full) (nullable): the file, or %NULL with
 *   %LF_ERROR_IO "TARGET: cannot create a temporary file beside it:
 *   REASON" (a missing or read-only directory, ...), "TARGET: is a
 *   directory; a save replaces only regular files", "TARGET: is a symbolic
 *   link to DEST, which is a device; a save follows links only to regular
 *   files", or "... which does not exist ...".
 *
 * Since: 0.1
 */
LF_API LfAtomicFile *lf_atomic_file_new (const char *target, GError **error);

/**
 * lf_atomic_file_get_fd:
 * @file: an atomic file
 *
 * The descriptor to write the new contents to.
 *
 * Returns: the temporary file's descriptor, open for writing, or -1 once
 *   committed.  Owned by @file: write to it, do not close it.
 *
 * Since: 0.1
 */
LF_API int lf_atomic_file_get_fd (const LfAtomicFile *file);
/**
 * lf_atomic_file_get_temporary_path:
 * @file: an atomic file
 *
 * Where the new contents are until the commit.
 *
 * Returns: (transfer none): the temporary file's path, owned by @file.
 *
 * Since: 0.1
 */
LF_API const char *lf_atomic_file_get_temporary_path (const LfAtomicFile *file);
/**
 * lf_atomic_file_get_target:
 * @file: an atomic file
 *
 * The file the commit replaces.
 *
 * Returns: (transfer none): the target's path as given, owned by @file.
 *
 * Since: 0.1
 */
LF_API const char *lf_atomic_file_get_target (const LfAtomicFile *file);

/**
 * lf_atomic_file_get_destination:
 * @file: an atomic file
 *
 * The path the commit renames the temporary file over: the target, or,
 * when the target is a symbolic link to a regular file, that file's
 * canonical path.
 *
 * Returns: (transfer none): the path, owned by @file.
 *
 * Since: 0.2
 */
LF_API const char *lf_atomic_file_get_destination (const LfAtomicFile *file);

/**
 * lf_atomic_file_commit:
 * @file: an atomic file
 * @sync: whether to make the result durable
 * @error: return location for a #GError, or %NULL
 *
 * Puts what was written in place: gives the temporary file its
 * permissions, syncs it (with @sync), closes it, renames it over the
 * target and syncs the directory (with @sync, so that the rename survives
 * a crash; a failure of that last sync is ignored: the file is in place).
 * Without @sync a crash soon after may lose the new contents.
 *
 * Success or failure, the descriptor is closed and the commit cannot be
 * repeated: only lf_atomic_file_free() remains to be called.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO naming the target and the
 *   step: "TARGET: cannot set permissions: REASON", "cannot sync", "cannot
 *   close", "cannot rename the temporary file over it".  Then the
 *   temporary file has been removed and the target is as it was.
 *
 * Since: 0.1
 */
LF_API gboolean lf_atomic_file_commit (LfAtomicFile *file, gboolean sync, GError **error);

/**
 * lf_atomic_file_free:
 * @file: (nullable) (transfer full): an atomic file
 *
 * Frees @file.  An uncommitted one is abandoned: its descriptor closed,
 * its temporary file removed, the target untouched.
 *
 * Since: 0.1
 */
LF_API void lf_atomic_file_free (LfAtomicFile *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfAtomicFile, lf_atomic_file_free)

G_END_DECLS
