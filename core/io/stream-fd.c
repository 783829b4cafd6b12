/* Streams over file descriptors: a path leafio opens for reading (its own
 * fd, read ahead, or a mapping), and a caller's fd (read exactly, so the
 * caller's offset stays right after our last byte; written through the
 * write buffer).  Their fast paths are in stream-fd-fast.c. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <leafio/leafio.h>
#include "stream-private.h"
#include "stream-fd-private.h"

#define READ_AHEAD_SIZE ((gsize) 128 * 1024)
#define PAGE 4096

gssize
_lf_fd_read (LfStream *stream, int fd, void *buffer, gsize count, GError **error)
{
  count = MIN (count, (gsize) G_MAXSSIZE);
  gssize n;
  do
    n = read (fd, buffer, count);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    _lf_stream_set_io_error (error, stream, "read", errno);
  return n;
}

/* ---- a path leafio opened ------------------------------------------------------ */

static gssize
path_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  PathStream *path = (PathStream *) stream;
  gssize n = _lf_fd_read (stream, path->fd, buffer, count, error);
  if (n > 0)
    path->raw_offset += (guint64) n;
  return n;
}

static void
path_finalize (LfStream *stream)
{
  PathStream *path = (PathStream *) stream;
  close (path->fd);
  _lf_read_arena_free (path->arena);
}

static const LfStreamClass path_class = {
  .instance_size = sizeof (PathStream),
  .read = path_read,
  .fill = _lf_path_fill,
  .read_bytes = _lf_path_read_bytes,
  .read_bytes_min = LF_PATH_BIG_READ_MIN,
  .finalize = path_finalize,
};

static LfStream *
open_mapped (const char *path, int fd, GError **error)
{
  GError *local = NULL;
  GMappedFile *mapped = g_mapped_file_new_from_fd (fd, FALSE, &local);
  close (fd);
  if (mapped == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot map: %s", path, local->message);
      g_error_free (local);
      return NULL;
    }
  GBytes *bytes = g_mapped_file_get_bytes (mapped);
  g_mapped_file_unref (mapped);  /* the bytes keep the mapping */
  return _lf_stream_new_for_mapping (path, bytes);
}

LfStream *
lf_stream_new_for_path (const char *path, gboolean map, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  int fd;
  do
    fd = open (path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: fstat failed: %s", path,
                   g_strerror (saved));
      close (fd);
      return NULL;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (EISDIR));
      close (fd);
      return NULL;
    }

  /* Only regular files can be mapped; anything else is read like a pipe. */
  if (map && S_ISREG (st.st_mode))
    return open_mapped (path, fd, error);

  LfStream *stream = _lf_stream_new (&path_class, path);
  PathStream *self = (PathStream *) stream;
  self->fd = fd;
  if (S_ISREG (st.st_mode))
    {
      stream->size_known = TRUE;
      stream->input_size = (guint64) st.st_size;
    }
  /* A page of slack: the window sits at the file offset modulo the page
   * size (see _lf_path_fill). */
  stream->rbuf_base = g_malloc (READ_AHEAD_SIZE + PAGE);
  stream->rbuf = stream->rbuf_base;
  stream->rbuf_cap = READ_AHEAD_SIZE;
  return stream;
}

/* ---- a caller's fd ----------------------------------------------------------- */

static gssize
fd_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  return _lf_fd_read (stream, ((FdStream *) stream)->fd, buffer, count, error);
}

static gboolean
fd_write (LfStream *stream, const guint8 *data, gsize count, GError **error)
{
  int fd = ((FdStream *) stream)->fd;
  gsize total = count;
  while (count > 0)
    {
      gssize n = write (fd, data, MIN (count, (gsize) G_MAXSSIZE));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          _lf_stream_set_io_error (error, stream, "write", n < 0 ? errno : EIO);
          return FALSE;
        }
      data += n;
      count -= (gsize) n;
    }
  _lf_fd_wrote ((FdStream *) stream, total);
  return TRUE;
}

static gboolean
fd_sync (LfStream *stream, GError **error)
{
  int rc;
  do
    rc = fsync (((FdStream *) stream)->fd);
  while (rc != 0 && errno == EINTR);
  /* Pipes, sockets and some special files cannot be synced: nothing to do. */
  if (rc != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP)
    {
      _lf_stream_set_io_error (error, stream, "fsync", errno);
      return FALSE;
    }
  return TRUE;
}

static void
fd_finalize (LfStream *stream)
{
  FdStream *self = (FdStream *) stream;
  if (self->close_fd)
    close (self->fd);
}

static const LfStreamClass fd_class = {
  .instance_size = sizeof (FdStream),
  .read = fd_read,
  .write = fd_write,
  .buffer_writes = TRUE,
  .write2 = _lf_fd_write2,
  .reserve = _lf_fd_reserve,
  .flush = _lf_fd_flush,
  .sync = fd_sync,
  .can_rewrite = _lf_fd_can_rewrite,
  .rewrite = _lf_fd_rewrite,
  .finalize = fd_finalize,
};

LfStream *
lf_stream_new_for_fd (int fd, gboolean close_fd)
{
  g_return_val_if_fail (fd >= 0, NULL);
  char name[32];
  g_snprintf (name, sizeof name, "fd %d", fd);
  LfStream *stream = _lf_stream_new (&fd_class, name);
  FdStream *self = (FdStream *) stream;
  self->fd = fd;
  self->close_fd = close_fd;
  return stream;
}

void
_lf_stream_set_owns_tail (LfStream *stream)
{
  g_return_if_fail (stream != NULL && stream->klass == &fd_class);
  ((FdStream *) stream)->owns_tail = TRUE;
}

void
_lf_stream_set_write_behind (LfStream *stream)
{
  g_return_if_fail (stream != NULL && stream->klass == &fd_class);
  ((FdStream *) stream)->write_behind = TRUE;
}
