/* npy-tool: a helper for the numpy interop test (not a Check suite).
 *
 *   npy-tool write OUT [--align N]
 *       Reads lines "KIND DTYPE SHAPE RAWFILE" from stdin (KIND array or
 *       scalar, SHAPE "-" for 0-d or "2,0,3", RAWFILE the native C-order
 *       bytes) and writes one npy record each to OUT ("-" for stdout) with
 *       lf_npy_write.
 *   npy-tool read IN OUTDIR [--map]
 *       Reads records from IN ("-" for stdin) until the end and prints
 *       "INDEX DTYPE SHAPE" a record, writing its native C-order data to
 *       OUTDIR/INDEX.bin.
 *   npy-tool
 *       Without arguments (as `make check` runs every check program): a
 *       smoke test that writes and reads back a few records in memory.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <leafio/leafio.h>

static int
fail (GError *error)
{
  fprintf (stderr, "npy-tool: %s\n", error->message);
  g_error_free (error);
  return 1;
}

static gboolean
parse_shape (const char *text, guint *ndim, gsize *shape)
{
  *ndim = 0;
  if (strcmp (text, "-") == 0)
    return TRUE;
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (*ndim == LF_MAX_NDIM)
        return FALSE;
      guint64 v;
      if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXSIZE, &v, NULL))
        return FALSE;
      shape[(*ndim)++] = (gsize) v;
    }
  return TRUE;
}

static int
do_write (const char *out, guint align)
{
  GError *error = NULL;
  int fd = strcmp (out, "-") == 0 ? STDOUT_FILENO
    : open (out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    {
      fprintf (stderr, "npy-tool: %s: %s\n", out, g_strerror (errno));
      return 1;
    }
  g_autoptr (LfStream) stream = lf_stream_new_for_fd (fd, fd != STDOUT_FILENO);
  char line[4096];
  while (fgets (line, sizeof line, stdin) != NULL)
    {
      g_strstrip (line);
      if (line[0] == '\0')
        continue;
      g_auto (GStrv) f = g_strsplit (line, " ", 4);
      if (g_strv_length (f) != 4)
        {
          fprintf (stderr, "npy-tool: bad line: %s\n", line);
          return 1;
        }
      LfDType dtype = lf_dtype_from_name (f[1]);
      gsize shape[LF_MAX_NDIM];
      guint ndim;
      if (dtype == LF_DTYPE_INVALID || !parse_shape (f[2], &ndim, shape))
        {
          fprintf (stderr, "npy-tool: bad dtype or shape: %s\n", line);
          return 1;
        }
      char *data = NULL;
      gsize size = 0;
      if (!g_file_get_contents (f[3], &data, &size, &error))
        return fail (error);
      g_autoptr (GBytes) bytes = g_bytes_new_take (data, size);
      g_autoptr (LfNode) leaf = NULL;
      gsize n_bytes;
      if (strcmp (f[0], "scalar") == 0 && size == lf_dtype_size (dtype))
        leaf = lf_scalar_new (dtype, g_bytes_get_data (bytes, NULL));
      else if (strcmp (f[0], "array") == 0
               && lf_shape_n_bytes (dtype, ndim, shape, &n_bytes) && n_bytes == size)
        leaf = lf_array_new_from_bytes (dtype, ndim, shape, bytes);
      else
        {
          fprintf (stderr, "npy-tool: %s: size %" G_GSIZE_FORMAT " does not fit: %s\n",
                   f[3], size, line);
          return 1;
        }
      if (!lf_npy_write (stream, leaf, align, &error))
        return fail (error);
    }
  if (!lf_stream_flush (stream, &error))
    return fail (error);
  return 0;
}

static int
do_read (const char *in, const char *outdir, gboolean map)
{
  GError *error = NULL;
  g_autoptr (LfStream) stream = strcmp (in, "-") == 0
    ? lf_stream_new_for_fd (STDIN_FILENO, FALSE)
    : lf_stream_new_for_path (in, map, &error);
  if (stream == NULL)
    return fail (error);
  for (guint index = 0;; index++)
    {
      gboolean at_end;
      if (!lf_stream_at_end (stream, &at_end, &error))
        return fail (error);
      if (at_end)
        break;
      g_autoptr (LfNode) leaf = lf_npy_read (stream, &error);
      if (leaf == NULL)
        {
          g_prefix_error (&error, "record %u: ", index);
          return fail (error);
        }
      g_autofree char *shape = lf_shape_to_string (lf_array_get_ndim (leaf),
                                                   lf_array_get_shape (leaf));
      /* One token: no spaces in the printed shape. */
      g_strdelimit (shape, " ", '_');
      printf ("%u %s %s\n", index, lf_dtype_name (lf_array_get_dtype (leaf)), shape);
      g_autofree char *name = g_strdup_printf ("%u.bin", index);
      g_autofree char *path = g_build_filename (outdir, name, NULL);
      if (!g_file_set_contents (path, lf_array_get_data (leaf),
                                (gssize) lf_array_get_n_bytes (leaf), &error))
        return fail (error);
    }
  return 0;
}

static int
smoke_test (void)
{
  GError *error = NULL;
  gsize shape[] = { 2, 1, 3 };
  const gint16 values[] = { 1, -2, 3, -4, 5, -6 };
  g_autoptr (LfNode) array = lf_array_new_copy (LF_DTYPE_INT16, 3, shape, values);
  g_autoptr (LfNode) scalar = lf_scalar_new_float (0.5);
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  if (!lf_npy_write (out, array, 0, &error) || !lf_npy_write (out, scalar, 0, &error))
    return fail (error);
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) a = lf_npy_read (in, &error);
  g_autoptr (LfNode) b = a != NULL ? lf_npy_read (in, &error) : NULL;
  if (b == NULL)
    return fail (error);
  if (!lf_tree_equal (a, array) || lf_array_get_ndim (b) != 0
      || *(const double *) lf_array_get_data (b) != 0.5
      || g_bytes_get_size (bytes) != 128 + 12 + 128 + 8)
    {
      fprintf (stderr, "npy-tool: smoke test: records differ\n");
      return 1;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 1)
    return smoke_test ();
  if (argc >= 3 && strcmp (argv[1], "write") == 0)
    {
      guint align = 0;
      if (argc == 5 && strcmp (argv[3], "--align") == 0)
        align = (guint) atoi (argv[4]);
      return do_write (argv[2], align);
    }
  if (argc >= 4 && strcmp (argv[1], "read") == 0)
    return do_read (argv[2], argv[3], argc == 5 && strcmp (argv[4], "--map") == 0);
  fprintf (stderr, "usage: npy-tool write OUT [--align N] < spec\n"
                   "       npy-tool read IN OUTDIR [--map]\n");
  return 2;
}
