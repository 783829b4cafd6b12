/* Agreeing on failure: after each step every rank learns whether any rank
 * failed, and all of them return the first failing rank's error, so no
 * rank goes on alone into a collective call the others have left.  Also
 * the hashes by which ranks check that they agree on a plan or a shape. */
#include "config.h"
#include <string.h>
#include "mpi-private.h"

gboolean
_lf_mpi_agree (MPI_Comm comm, const char *file, GError **error)
{
  g_return_val_if_fail (error != NULL, FALSE);
  int rank = 0, n_ranks = 1;
  MPI_Comm_rank (comm, &rank);
  MPI_Comm_size (comm, &n_ranks);

  int mine = *error != NULL ? rank : n_ranks;
  int first = n_ranks;
  MPI_Allreduce (&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == n_ranks)
    return TRUE;

  /* The first failing rank sends its code and text to everyone. */
  int code = LF_ERROR_FAILED;
  g_autofree char *text = NULL;
  int length = 0;
  if (rank == first)
    {
      if ((*error)->domain == LF_ERROR)
        code = (*error)->code;
      text = g_strdup_printf ("rank %d: %s%s%s", rank, file != NULL ? file : "",
                              file != NULL ? ": " : "", (*error)->message);
      length = (int) MIN (strlen (text), (gsize) G_MAXINT - 1);
    }
  int header[2] = { code, length };
  MPI_Bcast (header, 2, MPI_INT, first, comm);
  if (rank != first)
    text = g_malloc0 ((gsize) header[1] + 1);
  MPI_Bcast (text, header[1], MPI_CHAR, first, comm);
  text[header[1]] = '\0';

  g_clear_error (error);
  g_set_error_literal (error, LF_ERROR, header[0], text);
  return FALSE;
}

void
_lf_mpi_set_error (GError **error, int mpi_code, const char *path, const char *what)
{
  char text[MPI_MAX_ERROR_STRING + 1] = "";
  int length = 0;
  if (MPI_Error_string (mpi_code, text, &length) != MPI_SUCCESS)
    g_snprintf (text, sizeof text, "MPI error %d", mpi_code);
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s: %s", path, what, text);
}

void
_lf_mpi_hash (guint64 *hash, gconstpointer data, gsize size)
{
  const guint8 *p = data;
  for (gsize i = 0; i < size; i++)
    *hash = (*hash ^ p[i]) * 1099511628211ull;
}

guint64
_lf_mpi_leaf_hash (LfDType dtype, guint ndim, const gsize *shape, guint64 rows)
{
  guint64 hash = LF_MPI_HASH_INIT, values[] = { (guint64) dtype, ndim, rows };
  _lf_mpi_hash (&hash, values, sizeof values);
  for (guint d = 1; d < ndim; d++)
    {
      guint64 v = shape[d];
      _lf_mpi_hash (&hash, &v, sizeof v);
    }
  return hash;
}
