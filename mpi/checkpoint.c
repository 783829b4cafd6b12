/* A checkpoint manager over MPI: the core's manager in group mode
 * (lf_checkpoint_manager_open_group), whose ranks agree and share rank 0's
 * list of steps over a duplicate of the caller's communicator, and which
 * saves and loads steps with the collective save and load. */
#include "config.h"
#include <string.h>
#include "mpi-private.h"

typedef struct {
  /* The caller's communicator, duplicated: the manager's collectives
   * (which may run on its save thread) never interleave with the
   * caller's own on the same communicator. */
  MPI_Comm comm;
  int rank;
  const LfMpiLayout *layout;
} MpiManager;

static void
mpi_manager_free (gpointer data)
{
  MpiManager *m = data;
  MPI_Comm_free (&m->comm);
  g_free (m);
}

static gboolean
mpi_agree (gpointer data, GError **error)
{
  MpiManager *m = data;
  return _lf_mpi_agree (m->comm, NULL, error);
}

/* MPI counts are ints: big buffers go in pieces. */
#define BCAST_PIECE ((guint64) 1 << 30)

static GBytes *
mpi_broadcast (gpointer data, GBytes *bytes)
{
  MpiManager *m = data;
  guint64 size = bytes != NULL ? g_bytes_get_size (bytes) : 0;
  MPI_Bcast (&size, 1, MPI_UINT64_T, 0, m->comm);
  guint8 *buffer = m->rank == 0 ? (guint8 *) g_bytes_get_data (bytes, NULL)
                                : g_malloc (MAX (size, 1));
  for (guint64 done = 0; done < size; done += BCAST_PIECE)
    MPI_Bcast (buffer + done, (int) MIN (size - done, BCAST_PIECE), MPI_BYTE, 0, m->comm);
  return m->rank == 0 ? g_bytes_ref (bytes) : g_bytes_new_take (buffer, size);
}

static gboolean
mpi_save (gpointer data, const char *path, LfNode *tree, LfSpec *spec, GError **error)
{
  MpiManager *m = data;
  return lf_mpi_tree_serialise_leaves_full (m->comm, path, tree, spec, NULL, NULL, m->layout,
                                            LF_SAVE_MANIFEST, error);
}

static LfNode *
mpi_load (gpointer data, const char *path, LfNode *like, LfSpec *spec, GError **error)
{
  MpiManager *m = data;
  return lf_mpi_tree_deserialise_leaves (m->comm, path, like, spec, NULL, NULL, m->layout,
                                         error);
}

static const LfCheckpointIO mpi_io = {
  .struct_size = sizeof (LfCheckpointIO),
  .save = mpi_save,
  .load = mpi_load,
};

/* LF_ERROR_MISMATCH (on every rank) unless every rank names rank 0's
 * directory: ranks that write different directories would deadlock or
 * commit steps nobody wrote. */
static gboolean
same_directory (MpiManager *m, const char *directory, GError **error)
{
  int length = (int) MIN (strlen (directory), (gsize) G_MAXINT - 1);
  MPI_Bcast (&length, 1, MPI_INT, 0, m->comm);
  g_autofree char *first = g_malloc0 ((gsize) length + 1);
  if (m->rank == 0)
    memcpy (first, directory, (gsize) length);
  MPI_Bcast (first, length, MPI_CHAR, 0, m->comm);
  GError *local = NULL;
  if (strcmp (first, directory) != 0)
    g_set_error (&local, LF_ERROR, LF_ERROR_MISMATCH,
                 "checkpoint directory %s is not rank 0's %s", directory, first);
  if (_lf_mpi_agree (m->comm, NULL, &local))
    return TRUE;
  g_propagate_error (error, local);
  return FALSE;
}

LfCheckpointManager *
lf_mpi_checkpoint_manager_open (MPI_Comm comm, const char *directory,
                                const LfMpiLayout *layout, GError **error)
{
  g_return_val_if_fail (directory != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  MpiManager *m = g_new0 (MpiManager, 1);
  m->layout = layout;
  MPI_Comm_dup (comm, &m->comm);
  MPI_Comm_rank (m->comm, &m->rank);
  if (!same_directory (m, directory, error))
    {
      mpi_manager_free (m);
      return NULL;
    }
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread (&provided);
  const LfCheckpointGroup group = {
    .struct_size = sizeof (LfCheckpointGroup),
    .rank = m->rank,
    .threads = provided == MPI_THREAD_MULTIPLE,
    .agree = mpi_agree,
    .broadcast = mpi_broadcast,
    .free_data = mpi_manager_free,
  };
  LfCheckpointManager *manager = lf_checkpoint_manager_open_group (directory, &group, m, error);
  if (manager != NULL)
    lf_checkpoint_manager_set_io (manager, &mpi_io, m);
  return manager;
}
