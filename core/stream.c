/* Byte streams: where records are written to and read from.
 *
 * One struct serves every kind of stream.  Three sources feed reads:
 *   - memory (lf_stream_new_for_data/_bytes, mapped paths): `data`/`size`
 *     with `offset`; read_bytes slices `bytes` when there is one;
 *   - a path leafio opened itself: an fd read through a large read-ahead
 *     buffer, with the file size known from fstat;
 *   - a caller's fd, FILE * or callbacks: read exactly what is asked, so the
 *     caller's position stays right after the last byte we handed out.  The
 *     read buffer then only ever holds the byte lf_stream_at_end peeked.
 * Writes to fd, FILE and callbacks go through a write buffer; the memory
 * writer appends to a GByteArray directly.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <leafio/leafio.h>

#define READ_AHEAD_SIZE (256 * 1024)
#define WRITE_BUFFER_SIZE (64 * 1024)
/* read_bytes grows its buffer by this much when the size left is unknown,
 * so a lying length costs at most one chunk beyond the real input. */
#define READ_CHUNK_SIZE ((gsize) 16 * 1024 * 1024)

typedef enum {
  SOURCE_MEMORY,    /* data/size/offset, maybe backed by `bytes` */
  SOURCE_PATH,      /* our own fd, read ahead */
  SOURCE_FD,        /* caller's fd */
  SOURCE_FILE,      /* caller's FILE * */
  SOURCE_CALLBACKS, /* caller's functions */
  SOURCE_WRITER,    /* growing memory buffer */
} SourceKind;

struct _LfStream {
  SourceKind kind;
  char *name;
  guint64 position;          /* bytes handed to or taken from the caller */

  /* memory source */
  GBytes *bytes;             /* NULL for lf_stream_new_for_data */
  const guint8 *data;
  gsize size, offset;

  /* fd / FILE / callbacks */
  int fd;
  gboolean close_fd;
  FILE *file;
  LfReadFunc read_func;
  LfWriteFunc write_func;
  gpointer user_data;
  GDestroyNotify destroy;

  /* path source: file size when regular, and bytes pulled from the fd */
  gboolean size_known;
  guint64 file_size, raw_offset;

  /* read buffer: READ_AHEAD_SIZE for paths, one peeked byte otherwise */
  guint8 *rbuf;
  gsize rbuf_cap, rbuf_pos, rbuf_len;
  guint8 peek_byte;

  /* write buffer (fd, FILE, callbacks) or the memory writer's array */
  guint8 *wbuf;
  gsize wbuf_len;
  GByteArray *out;
};

/* ---- construction ---------------------------------------------------------- */

static LfStream *
stream_new (SourceKind kind, const char *name)
{
  LfStream *stream = g_new0 (LfStream, 1);
  stream->kind = kind;
  stream->name = g_strdup (name);
  stream->fd = -1;
  stream->rbuf = &stream->peek_byte;
  stream->rbuf_cap = 1;
  return stream;
}

static void
set_io_error (GError **error, const char *name, const char *what, int saved_errno)
{
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s failed: %s", name, what,
               g_strerror (saved_errno));
}

LfStream *
lf_stream_open_path (const char *path, gboolean map, GError **error)
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
      set_io_error (error, path, "fstat", errno);
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
    {
      GError *local = NULL;
      GMappedFile *mapped = g_mapped_file_new_from_fd (fd, FALSE, &local);
      close (fd);
      if (mapped == NULL)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot map: %s", path,
                       local->message);
          g_error_free (local);
          return NULL;
        }
      LfStream *stream = stream_new (SOURCE_MEMORY, path);
      stream->bytes = g_mapped_file_get_bytes (mapped);
      g_mapped_file_unref (mapped);  /* the bytes keep the mapping */
      stream->data = g_bytes_get_data (stream->bytes, &stream->size);
      return stream;
    }

  LfStream *stream = stream_new (SOURCE_PATH, path);
  stream->fd = fd;
  stream->close_fd = TRUE;
  stream->size_known = S_ISREG (st.st_mode);
  stream->file_size = stream->size_known ? (guint64) st.st_size : 0;
  stream->rbuf = g_malloc (READ_AHEAD_SIZE);
  stream->rbuf_cap = READ_AHEAD_SIZE;
  return stream;
}

LfStream *
lf_stream_new_for_fd (int fd, gboolean close_fd)
{
  g_return_val_if_fail (fd >= 0, NULL);
  char name[32];
  g_snprintf (name, sizeof name, "fd %d", fd);
  LfStream *stream = stream_new (SOURCE_FD, name);
  stream->fd = fd;
  stream->close_fd = close_fd;
  return stream;
}

LfStream *
lf_stream_new_for_file (FILE *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  LfStream *stream = stream_new (SOURCE_FILE, "FILE");
  stream->file = file;
  return stream;
}

LfStream *
lf_stream_new_for_data (gconstpointer data, gsize size)
{
  g_return_val_if_fail (data != NULL || size == 0, NULL);
  LfStream *stream = stream_new (SOURCE_MEMORY, "memory");
  stream->data = data;
  stream->size = size;
  return stream;
}

LfStream *
lf_stream_new_for_bytes (GBytes *bytes)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  LfStream *stream = stream_new (SOURCE_MEMORY, "memory");
  stream->bytes = g_bytes_ref (bytes);
  stream->data = g_bytes_get_data (bytes, &stream->size);
  return stream;
}

LfStream *
lf_stream_new_memory (void)
{
  LfStream *stream = stream_new (SOURCE_WRITER, "memory");
  stream->out = g_byte_array_new ();
  return stream;
}

LfStream *
lf_stream_new_for_callbacks (LfReadFunc read_func, LfWriteFunc write_func,
                             gpointer user_data, GDestroyNotify destroy)
{
  g_return_val_if_fail (read_func != NULL || write_func != NULL, NULL);
  LfStream *stream = stream_new (SOURCE_CALLBACKS, "callbacks");
  stream->read_func = read_func;
  stream->write_func = write_func;
  stream->user_data = user_data;
  stream->destroy = destroy;
  return stream;
}

void
lf_stream_free (LfStream *stream)
{
  if (stream == NULL)
    return;
  lf_stream_flush (stream, NULL);
  if (stream->close_fd && stream->fd >= 0)
    close (stream->fd);
  if (stream->destroy != NULL)
    stream->destroy (stream->user_data);
  g_clear_pointer (&stream->bytes, g_bytes_unref);
  if (stream->out != NULL)
    g_byte_array_unref (stream->out);
  if (stream->rbuf != &stream->peek_byte)
    g_free (stream->rbuf);
  g_free (stream->wbuf);
  g_free (stream->name);
  g_free (stream);
}

const char *
lf_stream_get_name (const LfStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  return stream->name;
}

void
lf_stream_set_name (LfStream *stream, const char *name)
{
  g_return_if_fail (stream != NULL);
  g_return_if_fail (name != NULL);
  char *copy = g_strdup (name);
  g_free (stream->name);
  stream->name = copy;
}

guint64
lf_stream_tell (const LfStream *stream)
{
  g_return_val_if_fail (stream != NULL, 0);
  return stream->position;
}

/* ---- reading ------------------------------------------------------------- */

/* One read from the underlying source, bypassing the read buffer: up to
 * `count` bytes, 0 at the end, -1 on error.  EINTR is retried. */
static gssize
raw_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  switch (stream->kind)
    {
    case SOURCE_MEMORY:
      {
        gsize n = MIN (count, stream->size - stream->offset);
        if (n > 0)
          memcpy (buffer, stream->data + stream->offset, n);
        stream->offset += n;
        return (gssize) n;
      }
    case SOURCE_PATH:
    case SOURCE_FD:
      {
        count = MIN (count, (gsize) G_MAXSSIZE);
        gssize n;
        do
          n = read (stream->fd, buffer, count);
        while (n < 0 && errno == EINTR);
        if (n < 0)
          {
            set_io_error (error, stream->name, "read", errno);
            return -1;
          }
        stream->raw_offset += (guint64) n;
        return n;
      }
    case SOURCE_FILE:
      {
        /* fread loops until `count` or the end, which is what callers want
         * from here; its own buffering keeps the FILE position exact. */
        gsize n = fread (buffer, 1, count, stream->file);
        if (n < count && ferror (stream->file))
          {
            int saved = errno;
            clearerr (stream->file);
            if (n == 0)
              {
                set_io_error (error, stream->name, "read", saved ? saved : EIO);
                return -1;
              }
          }
        return (gssize) n;
      }
    case SOURCE_CALLBACKS:
      {
        if (stream->read_func == NULL)
          {
            g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: stream is not readable",
                         stream->name);
            return -1;
          }
        GError *local = NULL;
        gssize n = stream->read_func (stream->user_data, buffer, count, &local);
        if (n < 0)
          {
            if (local == NULL)
              g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: read failed",
                           stream->name);
            else
              {
                g_propagate_prefixed_error (error, local, "%s: ", stream->name);
              }
            return -1;
          }
        g_clear_error (&local);
        return (gssize) MIN ((gsize) n, count);
      }
    case SOURCE_WRITER:
    default:
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: stream is not readable",
                   stream->name);
      return -1;
    }
}

static gboolean flush_write_buffer (LfStream *stream, GError **error);

gssize
lf_stream_read_some (LfStream *stream, void *buffer, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, -1);
  g_return_val_if_fail (buffer != NULL || count == 0, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (count == 0)
    return 0;
  /* Bytes written must reach the file before we read around them. */
  if (stream->wbuf_len > 0 && !flush_write_buffer (stream, error))
    return -1;

  gsize avail = stream->rbuf_len - stream->rbuf_pos;
  if (avail == 0 && stream->kind == SOURCE_PATH && count < stream->rbuf_cap)
    {
      gssize n = raw_read (stream, stream->rbuf, stream->rbuf_cap, error);
      if (n < 0)
        return -1;
      stream->rbuf_pos = 0;
      stream->rbuf_len = (gsize) n;
      avail = (gsize) n;
      if (n == 0)
        return 0;
    }
  if (avail > 0)
    {
      gsize n = MIN (avail, count);
      memcpy (buffer, stream->rbuf + stream->rbuf_pos, n);
      stream->rbuf_pos += n;
      stream->position += n;
      return (gssize) n;
    }
  gssize n = raw_read (stream, buffer, count, error);
  if (n > 0)
    stream->position += (guint64) n;
  return n;
}

/* Reads until `count` bytes or the end; returns how many were read, or -1. */
static gssize
read_full (LfStream *stream, guint8 *buffer, gsize count, GError **error)
{
  gsize done = 0;
  while (done < count)
    {
      gssize n = lf_stream_read_some (stream, buffer + done, count - done, error);
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += (gsize) n;
    }
  return (gssize) done;
}

static void
set_truncated (GError **error, const LfStream *stream, gsize expected, gsize found)
{
  g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
               "%s: expected %" G_GSIZE_FORMAT " bytes at offset %" G_GUINT64_FORMAT
               ", found %" G_GSIZE_FORMAT,
               stream->name, expected, stream->position - found, found);
}

gboolean
lf_stream_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (buffer != NULL || count == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gssize n = read_full (stream, buffer, count, error);
  if (n < 0)
    return FALSE;
  if ((gsize) n < count)
    {
      set_truncated (error, stream, count, (gsize) n);
      return FALSE;
    }
  return TRUE;
}

gboolean
lf_stream_get_remaining (LfStream *stream, guint64 *remaining)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  guint64 left;
  switch (stream->kind)
    {
    case SOURCE_MEMORY:
      left = stream->size - stream->offset;
      break;
    case SOURCE_PATH:
      if (!stream->size_known)
        return FALSE;
      /* The file may have shrunk under us: never report a negative size. */
      left = stream->file_size > stream->raw_offset
        ? stream->file_size - stream->raw_offset : 0;
      left += stream->rbuf_len - stream->rbuf_pos;
      break;
    default:
      return FALSE;
    }
  if (remaining != NULL)
    *remaining = left;
  return TRUE;
}

GBytes *
lf_stream_read_bytes (LfStream *stream, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  guint64 remaining;
  gboolean known = lf_stream_get_remaining (stream, &remaining);
  if (known && count > remaining)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "%s: expected %" G_GSIZE_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                   ", found %" G_GUINT64_FORMAT,
                   stream->name, count, stream->position, remaining);
      return NULL;
    }
  if (stream->kind == SOURCE_MEMORY && stream->bytes != NULL)
    {
      GBytes *slice = g_bytes_new_from_bytes (stream->bytes, stream->offset, count);
      stream->offset += count;
      stream->position += count;
      return slice;
    }
  if (known)
    {
      guint8 *data = g_malloc (count);
      if (!lf_stream_read (stream, data, count, error))
        {
          g_free (data);
          return NULL;
        }
      return g_bytes_new_take (data, count);
    }

  /* Unknown size: grow chunk by chunk so the allocation follows the input. */
  guint8 *data = NULL;
  gsize done = 0;
  while (done < count)
    {
      gsize chunk = MIN (count - done, READ_CHUNK_SIZE);
      data = g_realloc (data, done + chunk);
      gssize n = read_full (stream, data + done, chunk, error);
      if (n < 0)
        {
          g_free (data);
          return NULL;
        }
      done += (gsize) n;
      if ((gsize) n < chunk)
        {
          g_free (data);
          set_truncated (error, stream, count, done);
          return NULL;
        }
    }
  return g_bytes_new_take (data, count);
}

gboolean
lf_stream_skip (LfStream *stream, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  guint64 remaining;
  if (lf_stream_get_remaining (stream, &remaining) && count > remaining)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                   "%s: expected %" G_GSIZE_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                   ", found %" G_GUINT64_FORMAT,
                   stream->name, count, stream->position, remaining);
      return FALSE;
    }
  if (stream->kind == SOURCE_MEMORY)
    {
      stream->offset += count;
      stream->position += count;
      return TRUE;
    }
  guint8 scratch[8192];
  gsize done = 0;
  while (done < count)
    {
      gssize n = lf_stream_read_some (stream, scratch, MIN (count - done, sizeof scratch),
                                      error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          set_truncated (error, stream, count, done);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

gboolean
lf_stream_at_end (LfStream *stream, gboolean *at_end, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (at_end != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (stream->rbuf_pos < stream->rbuf_len)
    {
      *at_end = FALSE;
      return TRUE;
    }
  if (stream->kind == SOURCE_MEMORY)
    {
      *at_end = stream->offset == stream->size;
      return TRUE;
    }
  if (stream->wbuf_len > 0 && !flush_write_buffer (stream, error))
    return FALSE;
  /* Peek: a path fills its read-ahead buffer, the others one byte, which
   * the next read hands out first. */
  gsize want = stream->kind == SOURCE_PATH ? stream->rbuf_cap : 1;
  gssize n = raw_read (stream, stream->rbuf, want, error);
  if (n < 0)
    return FALSE;
  stream->rbuf_pos = 0;
  stream->rbuf_len = (gsize) n;
  *at_end = n == 0;
  return TRUE;
}

/* ---- writing ------------------------------------------------------------- */

/* Writes all of `data` to the underlying sink, bypassing the buffer. */
static gboolean
raw_write (LfStream *stream, const guint8 *data, gsize count, GError **error)
{
  switch (stream->kind)
    {
    case SOURCE_FD:
      while (count > 0)
        {
          gssize n = write (stream->fd, data, MIN (count, (gsize) G_MAXSSIZE));
          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              set_io_error (error, stream->name, "write", errno);
              return FALSE;
            }
          if (n == 0)
            {
              set_io_error (error, stream->name, "write", EIO);
              return FALSE;
            }
          data += n;
          count -= (gsize) n;
        }
      return TRUE;
    case SOURCE_FILE:
      if (count > 0 && fwrite (data, 1, count, stream->file) != count)
        {
          int saved = errno;
          clearerr (stream->file);
          set_io_error (error, stream->name, "write", saved ? saved : EIO);
          return FALSE;
        }
      return TRUE;
    case SOURCE_CALLBACKS:
      if (stream->write_func == NULL)
        break;
      {
        GError *local = NULL;
        if (!stream->write_func (stream->user_data, data, count, &local))
          {
            if (local == NULL)
              g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: write failed",
                           stream->name);
            else
              g_propagate_prefixed_error (error, local, "%s: ", stream->name);
            return FALSE;
          }
        g_clear_error (&local);
        return TRUE;
      }
    default:
      break;
    }
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: stream is not writable", stream->name);
  return FALSE;
}

static gboolean
flush_write_buffer (LfStream *stream, GError **error)
{
  gsize len = stream->wbuf_len;
  /* Dropped even on failure: a retry would duplicate the bytes that did go. */
  stream->wbuf_len = 0;
  return len == 0 || raw_write (stream, stream->wbuf, len, error);
}

gboolean
lf_stream_write (LfStream *stream, gconstpointer data, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (data != NULL || count == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (stream->kind == SOURCE_WRITER)
    {
      /* GByteArray sizes are guint. */
      if (count > G_MAXUINT - stream->out->len)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: write failed: %s",
                       stream->name, g_strerror (EFBIG));
          return FALSE;
        }
      g_byte_array_append (stream->out, data, (guint) count);
      stream->position += count;
      return TRUE;
    }
  if (stream->kind == SOURCE_MEMORY || stream->kind == SOURCE_PATH
      || (stream->kind == SOURCE_CALLBACKS && stream->write_func == NULL))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: stream is not writable",
                   stream->name);
      return FALSE;
    }
  if (count == 0)
    return TRUE;
  if (stream->wbuf == NULL)
    stream->wbuf = g_malloc (WRITE_BUFFER_SIZE);

  if (stream->wbuf_len + count > WRITE_BUFFER_SIZE)
    {
      if (!flush_write_buffer (stream, error))
        return FALSE;
    }
  if (count >= WRITE_BUFFER_SIZE)
    {
      if (!raw_write (stream, data, count, error))
        return FALSE;
    }
  else
    {
      memcpy (stream->wbuf + stream->wbuf_len, data, count);
      stream->wbuf_len += count;
    }
  stream->position += count;
  return TRUE;
}

gboolean
lf_stream_flush (LfStream *stream, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!flush_write_buffer (stream, error))
    return FALSE;
  if (stream->kind == SOURCE_FILE && fflush (stream->file) != 0)
    {
      int saved = errno;
      clearerr (stream->file);
      set_io_error (error, stream->name, "write", saved);
      return FALSE;
    }
  return TRUE;
}

gboolean
lf_stream_sync (LfStream *stream, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lf_stream_flush (stream, error))
    return FALSE;
  if (stream->kind != SOURCE_FD)
    return TRUE;
  int rc;
  do
    rc = fsync (stream->fd);
  while (rc != 0 && errno == EINTR);
  /* Pipes, sockets and some special files cannot be synced: nothing to do. */
  if (rc != 0 && errno != EINVAL && errno != EROFS && errno != ENOTSUP)
    {
      set_io_error (error, stream->name, "fsync", errno);
      return FALSE;
    }
  return TRUE;
}

GBytes *
lf_stream_steal_bytes (LfStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  if (stream->kind != SOURCE_WRITER)
    return NULL;
  GBytes *bytes = g_byte_array_free_to_bytes (stream->out);
  stream->out = g_byte_array_new ();
  return bytes;
}
