/* Writing the file: rank 0 makes a temporary file beside the target
 * (LfAtomicFile), every rank's pieces are written into it with one
 * collective MPI-IO call, then rank 0 commits it: sync and rename over the
 * target.  The previous file is touched only by that rename. */
#define _GNU_SOURCE 1   /* fallocate */
#include "config.h"
#include <fcntl.h>
#include <string.h>
#include "mpi-private.h"

/* MPI counts are ints: longer pieces are cut into blocks of this size. */
#define MAX_BLOCK ((gsize) 1 << 30)

/* Rank 0 makes the temporary file (`*file`, which it keeps open until the
 * commit) and tells the others its name. */
static char *
share_temporary_name (MPI_Comm comm, int rank, const char *target, LfAtomicFile **file,
                      GError **error)
{
  GError *local = NULL;
  if (rank == 0)
    *file = lf_atomic_file_new (target, &local);
  if (!_lf_mpi_agree (comm, NULL, &local))
    {
      g_propagate_error (error, local);
      return NULL;
    }
  g_autofree char *name = rank == 0 ? g_strdup (lf_atomic_file_get_temporary_path (*file))
                                    : NULL;
  int length = rank == 0 ? (int) strlen (name) : 0;
  MPI_Bcast (&length, 1, MPI_INT, 0, comm);
  if (rank != 0)
    name = g_malloc0 ((gsize) length + 1);
  MPI_Bcast (name, length, MPI_CHAR, 0, comm);
  return g_steal_pointer (&name);
}

static int
compare_pieces (gconstpointer a, gconstpointer b)
{
  const LfMpiPiece *x = a, *y = b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* One collective write: the file view and the memory type list this
 * rank's pieces, so each rank makes a single MPI_File_write_at_all. */
static gboolean
write_pieces (MPI_File file, GArray *pieces, const char *target, GError **error)
{
  g_array_sort (pieces, compare_pieces);
  g_autoptr (GArray) lengths = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) file_at = g_array_new (FALSE, FALSE, sizeof (MPI_Aint));
  g_autoptr (GArray) memory_at = g_array_new (FALSE, FALSE, sizeof (MPI_Aint));
  for (guint i = 0; i < pieces->len; i++)
    {
      const LfMpiPiece *piece = &g_array_index (pieces, LfMpiPiece, i);
      for (gsize done = 0; done < piece->size; done += MAX_BLOCK)
        {
          int length = (int) MIN (MAX_BLOCK, piece->size - done);
          MPI_Aint at = (MPI_Aint) (piece->offset + done), address;
          MPI_Get_address (piece->data + done, &address);
          g_array_append_val (lengths, length);
          g_array_append_val (file_at, at);
          g_array_append_val (memory_at, address);
        }
    }

  int rc;
  MPI_Status status;
  if (lengths->len == 0)
    {
      rc = MPI_File_set_view (file, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL);
      if (rc == MPI_SUCCESS)
        rc = MPI_File_write_at_all (file, 0, NULL, 0, MPI_BYTE, &status);
    }
  else
    {
      MPI_Datatype file_type, memory_type;
      MPI_Type_create_hindexed ((int) lengths->len, (int *) lengths->data,
                                (MPI_Aint *) file_at->data, MPI_BYTE, &file_type);
      MPI_Type_create_hindexed ((int) lengths->len, (int *) lengths->data,
                                (MPI_Aint *) memory_at->data, MPI_BYTE, &memory_type);
      MPI_Type_commit (&file_type);
      MPI_Type_commit (&memory_type);
      rc = MPI_File_set_view (file, 0, MPI_BYTE, file_type, "native", MPI_INFO_NULL);
      if (rc == MPI_SUCCESS)
        rc = MPI_File_write_at_all (file, 0, MPI_BOTTOM, 1, memory_type, &status);
      MPI_Type_free (&file_type);
      MPI_Type_free (&memory_type);
    }
  if (rc != MPI_SUCCESS)
    {
      _lf_mpi_set_error (error, rc, target, "collective write failed");
      return FALSE;
    }
  return TRUE;
}

/* Rank 0 reserves the whole file's blocks and size before the ranks write
 * (every byte up to the last piece's end is written): ext4 then skips the
 * delayed-allocation bookkeeping of every page, as path saves do (see
 * core/stream.c).  Best effort. */
static void
preallocate (MPI_Comm comm, int rank, LfAtomicFile *atomic, GArray *pieces)
{
  unsigned long long end = 0, file_size = 0;
  for (guint i = 0; i < pieces->len; i++)
    {
      const LfMpiPiece *piece = &g_array_index (pieces, LfMpiPiece, i);
      end = MAX (end, (unsigned long long) (piece->offset + piece->size));
    }
  MPI_Reduce (&end, &file_size, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, 0, comm);
#ifdef HAVE_FALLOCATE
  if (rank == 0 && file_size > 0)
    (void) fallocate (lf_atomic_file_get_fd (atomic), 0, 0, (off_t) file_size);
#else
  (void) rank;
  (void) atomic;
#endif
}

/* Rank 0, once every rank has closed the file: under the directory's lock,
 * the old manifest goes (it must not outlive its file), the file is
 * renamed into place and `committed` writes the new manifest, so that a
 * concurrent save of the same path cannot put its manifest beside this
 * file or this manifest beside its file. */
static gboolean
commit_locked (LfAtomicFile *atomic, const char *target, gboolean sync,
               LfMpiCommittedFunc committed, gpointer committed_data, GError **error)
{
  int lock = lf_atomic_file_lock_directory (atomic);
  gboolean ok = lf_manifest_remove (target, error)
                && lf_atomic_file_commit (atomic, sync, error)
                && (committed == NULL || committed (committed_data, error));
  lf_atomic_file_unlock_directory (lock);
  return ok;
}

gboolean
_lf_mpi_write_file (MPI_Comm comm, const char *target, GArray *pieces, gboolean sync,
                    LfMpiCommittedFunc committed, gpointer committed_data, GError **error)
{
  int rank = 0;
  MPI_Comm_rank (comm, &rank);
  /* Rank 0's only; freeing it uncommitted removes the temporary file. */
  g_autoptr (LfAtomicFile) atomic = NULL;
  g_autofree char *temporary = share_temporary_name (comm, rank, target, &atomic, error);
  if (temporary == NULL)
    return FALSE;

  preallocate (comm, rank, atomic, pieces);

  GError *local = NULL;
  MPI_File file = MPI_FILE_NULL;
  /* Every rank's pieces are large and disjoint: each rank writing its own
   * straight to the file beats shuffling them through aggregators (ROMIO's
   * hints; OMPIO ignores them). */
  MPI_Info info;
  MPI_Info_create (&info);
  MPI_Info_set (info, "romio_cb_write", "disable");
  MPI_Info_set (info, "romio_ds_write", "disable");
  int rc = MPI_File_open (comm, temporary, MPI_MODE_WRONLY, info, &file);
  MPI_Info_free (&info);
  if (rc != MPI_SUCCESS)
    _lf_mpi_set_error (&local, rc, target, "cannot open the temporary file with MPI-IO");
  /* Each step ends with an agreement, so every rank takes the same branch. */
  gboolean ok = _lf_mpi_agree (comm, NULL, &local);
  if (!ok && file != MPI_FILE_NULL)
    MPI_File_close (&file);
  if (ok)
    {
      write_pieces (file, pieces, target, &local);
      rc = MPI_File_close (&file);
      if (rc != MPI_SUCCESS && local == NULL)
        _lf_mpi_set_error (&local, rc, target, "cannot close the temporary file");
      ok = _lf_mpi_agree (comm, NULL, &local);
    }
  if (ok)
    {
      if (rank == 0)
        commit_locked (atomic, target, sync, committed, committed_data, &local);
      ok = _lf_mpi_agree (comm, NULL, &local);
    }
  if (!ok)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}
