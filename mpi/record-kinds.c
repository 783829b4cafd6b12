/* Which codecs let a sharded leaf be encoded and decoded row block by row
 * block, and small helpers both the save and the load need. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "mpi-private.h"

/* npy writes the array as is; float16 converts element by element and
 * hands the result to its inner codec, npy unless an `inner=` option says
 * otherwise.  Anything else may need the whole array (compression, a
 * checksum, a user's function), so it is gathered instead. */
gboolean
_lf_mpi_codec_is_row_wise (const LfCodec *codec)
{
  const char *name = lf_codec_get_name (codec);
  if (_lf_mpi_codec_depends_on_offset (codec))
    return FALSE;
  if (strcmp (name, "npy") == 0)
    return TRUE;
  if (strcmp (name, "float16") != 0)
    return FALSE;
  g_autofree char *text = lf_codec_to_string (codec);
  const char *inner = strstr (text, "inner=");
  return inner == NULL || g_str_has_prefix (inner, "inner=npy)")
         || g_str_has_prefix (inner, "inner=npy,");
}

gboolean
_lf_mpi_codec_depends_on_offset (const LfCodec *codec)
{
  g_autofree char *text = lf_codec_to_string (codec);
  return strstr (text, "align=") != NULL;
}

static LfNode *
fit_scalar (const LfNode *like, LfNode *loaded, GError **error)
{
  g_autoptr (LfNode) scalar = NULL;
  if (lf_node_get_kind (loaded) == LF_NODE_SCALAR)
    scalar = lf_node_ref (loaded);
  else if (lf_node_get_kind (loaded) == LF_NODE_ARRAY && !lf_array_is_abstract (loaded)
           && lf_array_get_n_elements (loaded) == 1)
    scalar = lf_scalar_new (lf_array_get_dtype (loaded), lf_array_get_data (loaded));
  else
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH, "expected a %s scalar, found %s",
                   lf_dtype_name (lf_scalar_get_dtype (like)),
                   lf_node_kind_name (lf_node_get_kind (loaded)));
      return NULL;
    }
  if (lf_scalar_get_dtype (scalar) == lf_scalar_get_dtype (like))
    return g_steal_pointer (&scalar);
  return lf_scalar_convert (scalar, lf_scalar_get_dtype (like), error);
}

LfNode *
_lf_mpi_fit_to_like (const LfNode *like, LfNode *loaded, GError **error)
{
  LfNodeKind want = lf_node_get_kind (like);
  LfNodeKind got = lf_node_get_kind (loaded);
  if (want == LF_NODE_SCALAR)
    return fit_scalar (like, loaded, error);
  if (want != got)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_MISMATCH, "expected %s, found %s",
                   lf_node_kind_name (want), lf_node_kind_name (got));
      return NULL;
    }
  if (want == LF_NODE_ARRAY
      && !lf_codec_check_array_like (like, lf_array_get_dtype (loaded),
                                     lf_array_get_ndim (loaded),
                                     lf_array_get_shape (loaded), error))
    return NULL;
  return lf_node_ref (loaded);
}

gboolean
_lf_mpi_pread_all (int fd, void *buffer, gsize count, guint64 offset, const char *path,
                   GError **error)
{
  gsize done = 0;
  while (done < count)
    {
      ssize_t n = pread (fd, (char *) buffer + done, MIN (count - done, (gsize) 1 << 30),
                         (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot read at offset %"
                       G_GUINT64_FORMAT ": %s", path, offset + done, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED, "%s: expected %" G_GSIZE_FORMAT
                       " bytes at offset %" G_GUINT64_FORMAT ", found %" G_GSIZE_FORMAT,
                       path, count, offset, done);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}
