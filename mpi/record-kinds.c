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

guint
_lf_mpi_npy_align (const LfCodec *codec)
{
  if (strcmp (lf_codec_get_name (codec), "npy") != 0)
    return 0;
  /* npy's only option: "npy(align=N)" in canonical text. */
  g_autofree char *text = lf_codec_to_string (codec);
  guint64 align = 0;
  if (!g_str_has_prefix (text, "npy(align=") || !g_str_has_suffix (text, ")"))
    return 0;
  text[strlen (text) - 1] = '\0';
  if (!g_ascii_string_to_unsigned (text + strlen ("npy(align="), 10, 64, G_MAXUINT, &align,
                                   NULL))
    return 0;
  return (guint) align;
}

gboolean
_lf_mpi_codec_depends_on_offset (const LfCodec *codec)
{
  g_autofree char *text = lf_codec_to_string (codec);
  return strstr (text, "align=") != NULL && _lf_mpi_npy_align (codec) == 0;
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
