/* Streams over a caller's FILE *: read exactly through fread, written
 * through the write buffer and fwrite, flushed with fflush.  The FILE stays
 * open. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <leafio/leafio.h>
#include "stream-private.h"
#include "stream-source-private.h"

typedef struct {
  LfStream parent;
  FILE *file;
} StdioStream;

static gssize
stdio_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  FILE *file = ((StdioStream *) stream)->file;
  /* fread loops until `count` or the end, which is what callers want from
   * here; its own buffering keeps the FILE position exact. */
  gsize n = fread (buffer, 1, count, file);
  if (n < count && ferror (file))
    {
      int saved = errno;
      clearerr (file);
      if (n == 0)
        {
          _lf_stream_set_io_error (error, stream, "read", saved ? saved : EIO);
          return -1;
        }
    }
  return (gssize) n;
}

static gboolean
stdio_write (LfStream *stream, const guint8 *data, gsize count, GError **error)
{
  FILE *file = ((StdioStream *) stream)->file;
  if (count > 0 && fwrite (data, 1, count, file) != count)
    {
      int saved = errno;
      clearerr (file);
      _lf_stream_set_io_error (error, stream, "write", saved ? saved : EIO);
      return FALSE;
    }
  return TRUE;
}

static gboolean
stdio_flush (LfStream *stream, GError **error)
{
  FILE *file = ((StdioStream *) stream)->file;
  if (fflush (file) != 0)
    {
      int saved = errno;
      clearerr (file);
      _lf_stream_set_io_error (error, stream, "write", saved);
      return FALSE;
    }
  return TRUE;
}

static const LfStreamClass stdio_class = {
  .instance_size = sizeof (StdioStream),
  .read = stdio_read,
  .write = stdio_write,
  .buffer_writes = TRUE,
  .flush = stdio_flush,
};

LfStream *
lf_stream_new_for_file (FILE *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  LfStream *stream = _lf_stream_new (&stdio_class, "FILE");
  ((StdioStream *) stream)->file = file;
  return stream;
}
