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
#define _GNU_SOURCE 1   /* fallocate */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <leafio/leafio.h>
#include "settings-private.h"
#include "stream-private.h"

#define READ_AHEAD_SIZE (128 * 1024)
#define PAGE 4096
/* Reads at least this big from a path get a buffer of their own
 * (read-buffer.c); from this size on, a second thread reads half. */
#define BIG_READ_MIN ((gsize) 1 << 20)
#define SPLIT_READ_MIN ((gsize) 2 << 20)
#define WRITE_BUFFER_SIZE (64 * 1024)
/* Writes at least this big to a regular file reserve their blocks first. */
#define PREALLOCATE_MIN ((gsize) 1 << 20)
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

  /* read buffer: READ_AHEAD_SIZE for paths, one peeked byte otherwise;
   * for paths `rbuf` moves inside `rbuf_base` (see refill_read_ahead) */
  guint8 *rbuf_base;
  guint8 *rbuf;
  gsize rbuf_cap, rbuf_pos, rbuf_len;
  guint8 peek_byte;

  /* write buffer (fd, FILE, callbacks) or the memory writer's array */
  guint8 *wbuf;
  gsize wbuf_len;
  GByteArray *out;

  /* lf_stream_rewrite on an fd: checked once; the fd offset of position 0 */
  gboolean rewrite_checked, rewritable;
  guint64 fd_start;
  gboolean no_preallocate;   /* fallocate failed once: not again */
  gboolean owns_tail;        /* the file past our start is ours (a new file) */
  guint64 reserved_end;      /* position up to which the file was extended ahead */
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
  stream->rbuf_base = g_malloc (READ_AHEAD_SIZE + PAGE);
  stream->rbuf = stream->rbuf_base;
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
  g_free (stream->rbuf_base);
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

/* Refills a path's read-ahead buffer at the address congruent to the file
 * offset modulo the page size, so that the kernel's copy into it and ours
 * out of it into congruent leaf buffers run at full speed (a copy whose
 * destination sits a little ahead of its source modulo 4 KiB runs at a
 * third of the speed on this class of machine). */
static gssize
refill_read_ahead (LfStream *stream, GError **error)
{
  stream->rbuf = stream->rbuf_base + stream->raw_offset % PAGE;
  gssize n = raw_read (stream, stream->rbuf, stream->rbuf_cap, error);
  stream->rbuf_pos = 0;
  stream->rbuf_len = n > 0 ? (gsize) n : 0;
  return n;
}

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
      gssize n = refill_read_ahead (stream, error);
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
lf_stream_get_remaining (const LfStream *stream, guint64 *remaining)
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

/* ---- peeking, for the npy reader -------------------------------------------- */

const guint8 *
_lf_stream_peek (LfStream *stream, gsize *available)
{
  if (stream->wbuf_len > 0)
    {
      *available = 0;
      return NULL;
    }
  /* NULL when nothing is there: an empty stream may have no buffer at all,
   * and NULL + 0 is undefined behaviour. */
  if (stream->kind == SOURCE_MEMORY)
    {
      *available = stream->size - stream->offset;
      return *available > 0 ? stream->data + stream->offset : NULL;
    }
  *available = stream->rbuf_len - stream->rbuf_pos;
  return *available > 0 ? stream->rbuf + stream->rbuf_pos : NULL;
}

void
_lf_stream_consume (LfStream *stream, gsize count)
{
  if (stream->kind == SOURCE_MEMORY)
    stream->offset += count;
  else
    stream->rbuf_pos += count;
  stream->position += count;
}

/* ---- peeking, for codecs describing a record -------------------------------- */

/* Moves the unread buffered bytes to the start of a buffer of at least
 * `count` bytes.  Paths keep their read-ahead buffer (always big enough);
 * other streams get a buffer of their own the first time they peek. */
static void
gather_unread (LfStream *stream, gsize count)
{
  gsize avail = stream->rbuf_len - stream->rbuf_pos;
  if (stream->kind != SOURCE_PATH && (stream->rbuf_base == NULL || stream->rbuf_cap < count))
    {
      count = MAX (count, 64);
      guint8 *buffer = g_malloc (count);
      memcpy (buffer, stream->rbuf + stream->rbuf_pos, avail);
      g_free (stream->rbuf_base);
      stream->rbuf_base = buffer;
      stream->rbuf_cap = count;
    }
  else if (avail > 0)
    memmove (stream->rbuf_base, stream->rbuf + stream->rbuf_pos, avail);
  stream->rbuf = stream->rbuf_base;
  stream->rbuf_pos = 0;
  stream->rbuf_len = avail;
}

const guint8 *
lf_stream_peek (LfStream *stream, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  static const guint8 empty[1];
  if (count > LF_STREAM_PEEK_MAX)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "%s: cannot look %" G_GSIZE_FORMAT " bytes ahead (at most %" G_GSIZE_FORMAT
                   ")", stream->name, count, LF_STREAM_PEEK_MAX);
      return NULL;
    }
  if (stream->wbuf_len > 0 && !flush_write_buffer (stream, error))
    return NULL;
  if (stream->kind == SOURCE_MEMORY)
    {
      gsize left = stream->size - stream->offset;
      if (left < count)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                       "%s: expected %" G_GSIZE_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                       ", found %" G_GSIZE_FORMAT, stream->name, count, stream->position, left);
          return NULL;
        }
      return left > 0 ? stream->data + stream->offset : empty;
    }
  if (stream->kind == SOURCE_WRITER)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: stream is not readable", stream->name);
      return NULL;
    }
  if (stream->rbuf_len - stream->rbuf_pos < count)
    {
      gather_unread (stream, count);
      /* Paths read ahead as usual; the caller's streams take exactly what
       * is shown, so their position stays right after the last record. */
      gsize want = stream->kind == SOURCE_PATH ? stream->rbuf_cap : count;
      while (stream->rbuf_len < count)
        {
          gssize n = raw_read (stream, stream->rbuf + stream->rbuf_len,
                               want - stream->rbuf_len, error);
          if (n < 0)
            return NULL;
          if (n == 0)
            {
              g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
                           "%s: expected %" G_GSIZE_FORMAT " bytes at offset %"
                           G_GUINT64_FORMAT ", found %" G_GSIZE_FORMAT,
                           stream->name, count, stream->position, stream->rbuf_len);
              return NULL;
            }
          stream->rbuf_len += (gsize) n;
        }
    }
  return stream->rbuf_len > stream->rbuf_pos ? stream->rbuf + stream->rbuf_pos : empty;
}

/* ---- big reads from a path ------------------------------------------------- */

typedef struct {
  int fd;
  guint8 *buffer;
  gsize count;
  guint64 offset;
  gsize done;
  int saved_errno;
} ReadPart;

/* pread until `count` bytes, the end of the file or an error. */
static gpointer
read_part (gpointer data)
{
  ReadPart *part = data;
  while (part->done < part->count)
    {
      gsize want = MIN (part->count - part->done, (gsize) 1 << 30);
      gssize n = pread (part->fd, part->buffer + part->done, want,
                        (off_t) (part->offset + part->done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          part->saved_errno = errno;
          break;
        }
      if (n == 0)
        break;
      part->done += (gsize) n;
    }
  return NULL;
}

/* Whether big reads may use a second thread (LEAFIO_READ_THREADS=1 turns
 * it off, for measuring what it buys). */
static gboolean
split_reads_enabled (void)
{
  return _lf_setting_uint ("LEAFIO_READ_THREADS", 1, 2, 2) != 1;
}

/* Reads `count` bytes (known to be in the file) into a big buffer: what the
 * read-ahead holds first, then the rest straight from the file; from
 * SPLIT_READ_MIN on, a second thread reads the second half meanwhile (its
 * page faults and copy run on the other core).  NULL with `*error` unset
 * when no buffer could be mapped. */
static GBytes *
read_big (LfStream *stream, gsize count, GError **error)
{
  gsize avail = stream->rbuf_len - stream->rbuf_pos;
  guint64 file_offset = stream->raw_offset - avail;
  guint8 *data;
  GBytes *bytes = lf_read_buffer_new (count, file_offset, &data);
  if (bytes == NULL)
    return NULL;
  gsize head = MIN (avail, count);
  memcpy (data, stream->rbuf + stream->rbuf_pos, head);
  stream->rbuf_pos += head;

  gsize rest = count - head;
  ReadPart parts[2] = {
    { stream->fd, data + head, rest, stream->raw_offset, 0, 0 },
    { stream->fd, NULL, 0, 0, 0, 0 },
  };
  GThread *helper = NULL;
  if (rest >= SPLIT_READ_MIN && split_reads_enabled ())
    {
      gsize first = (rest / 2) & ~(gsize) (PAGE - 1);
      parts[1] = (ReadPart) { stream->fd, parts[0].buffer + first, rest - first,
                              parts[0].offset + first, 0, 0 };
      parts[0].count = first;
      helper = g_thread_try_new ("leafio-read", read_part, &parts[1], NULL);
      if (helper == NULL)
        {
          parts[0].count = rest;
          parts[1].count = 0;
        }
    }
  read_part (&parts[0]);
  if (helper != NULL)
    g_thread_join (helper);

  gsize got = head + parts[0].done + parts[1].done;
  int saved = parts[0].saved_errno ? parts[0].saved_errno : parts[1].saved_errno;
  /* Our own fd: move it past what the parts read with pread. */
  stream->raw_offset += parts[0].done + parts[1].done;
  if (lseek (stream->fd, (off_t) stream->raw_offset, SEEK_SET) < 0 && saved == 0)
    saved = errno;
  stream->position += got;
  if (saved != 0)
    {
      set_io_error (error, stream->name, "read", saved);
      g_bytes_unref (bytes);
      return NULL;
    }
  if (got < count)
    {
      set_truncated (error, stream, count, got);
      g_bytes_unref (bytes);
      return NULL;
    }
  return bytes;
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
  /* Small data already in the read-ahead buffer: one copy, no calls. */
  if (stream->kind != SOURCE_MEMORY && count <= stream->rbuf_len - stream->rbuf_pos
      && stream->wbuf_len == 0)
    {
      guint8 *data = g_malloc (MAX (count, 1));
      memcpy (data, stream->rbuf + stream->rbuf_pos, count);
      _lf_stream_consume (stream, count);
      return g_bytes_new_take (data, count);
    }
  if (stream->kind == SOURCE_MEMORY && stream->bytes != NULL)
    {
      GBytes *slice = g_bytes_new_from_bytes (stream->bytes, stream->offset, count);
      stream->offset += count;
      stream->position += count;
      return slice;
    }
  if (known && stream->kind == SOURCE_PATH && count >= BIG_READ_MIN)
    {
      GError *local = NULL;
      GBytes *bytes = read_big (stream, count, &local);
      if (bytes != NULL || local != NULL)
        {
          if (local != NULL)
            g_propagate_error (error, local);
          return bytes;
        }
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
  gssize n = stream->kind == SOURCE_PATH ? refill_read_ahead (stream, error)
                                         : raw_read (stream, stream->rbuf, 1, error);
  if (n < 0)
    return FALSE;
  stream->rbuf_pos = 0;
  stream->rbuf_len = (gsize) n;
  *at_end = n == 0;
  return TRUE;
}

/* ---- writing ------------------------------------------------------------- */

static gboolean fd_start_known (LfStream *stream);

/* Before `count` bytes go to a regular file at stream position
 * `position`: reserves their blocks.  ext4 then skips the delayed
 * allocation bookkeeping of every page, a quarter of a big write's time
 * here.  In a file the stream owns past its start, the file is extended
 * at once too (writes inside the file's size are cheaper still), and
 * lf_stream_flush cuts it back to what was written; in a caller's file
 * only blocks are reserved, its size is left to the writes.  Best effort:
 * the write itself reports any error. */
static void
preallocate (LfStream *stream, guint64 position, gsize count)
{
#ifdef HAVE_FALLOCATE
  if (stream->kind != SOURCE_FD || count < PREALLOCATE_MIN || stream->no_preallocate
      || !fd_start_known (stream))
    return;
  int mode = stream->owns_tail ? 0 : FALLOC_FL_KEEP_SIZE;
  if (fallocate (stream->fd, mode, (off_t) (stream->fd_start + position), (off_t) count) != 0)
    stream->no_preallocate = TRUE;
  else if (stream->owns_tail)
    stream->reserved_end = MAX (stream->reserved_end, position + count);
#else
  (void) stream;
  (void) position;
  (void) count;
#endif
}

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
      preallocate (stream, stream->position, count);
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

/* Writes two pieces with writev until all is written. */
static gboolean
writev_all (LfStream *stream, struct iovec *iov, int n_iov, GError **error)
{
  while (n_iov > 0)
    {
      gssize n = writev (stream->fd, iov, n_iov);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          set_io_error (error, stream->name, "write", n < 0 ? errno : EIO);
          return FALSE;
        }
      gsize left = (gsize) n;
      while (n_iov > 0 && left >= iov->iov_len)
        {
          left -= iov->iov_len;
          iov++;
          n_iov--;
        }
      if (n_iov > 0)
        {
          iov->iov_base = (guint8 *) iov->iov_base + left;
          iov->iov_len -= left;
        }
    }
  return TRUE;
}

gboolean
_lf_stream_write2 (LfStream *stream, gconstpointer header, gsize header_size,
                   gconstpointer data, gsize data_size, GError **error)
{
  if (stream->kind != SOURCE_FD || data_size < WRITE_BUFFER_SIZE)
    return lf_stream_write (stream, header, header_size, error)
           && lf_stream_write (stream, data, data_size, error);
  /* Header into the buffer, then the buffer and the data in one call. */
  if (!lf_stream_write (stream, header, header_size, error))
    return FALSE;
  struct iovec iov[2] = {
    { stream->wbuf, stream->wbuf_len },
    { (void *) data, data_size },
  };
  preallocate (stream, stream->position - stream->wbuf_len, stream->wbuf_len + data_size);
  int first = stream->wbuf_len > 0 ? 0 : 1;
  stream->wbuf_len = 0;  /* dropped even on failure, as flush_write_buffer does */
  if (!writev_all (stream, iov + first, 2 - first, error))
    return FALSE;
  stream->position += data_size;
  return TRUE;
}

void
_lf_stream_set_owns_tail (LfStream *stream)
{
  stream->owns_tail = TRUE;
}

void
lf_stream_expect (LfStream *stream, guint64 count)
{
  g_return_if_fail (stream != NULL);
  if (count <= G_MAXSIZE)
    preallocate (stream, stream->position, (gsize) count);
}

gboolean
lf_stream_flush (LfStream *stream, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!flush_write_buffer (stream, error))
    return FALSE;
  if (stream->reserved_end > stream->position)
    {
      /* Extended ahead further than written: cut back to the bytes written. */
      stream->reserved_end = 0;
      if (ftruncate (stream->fd, (off_t) (stream->fd_start + stream->position)) != 0)
        {
          set_io_error (error, stream->name, "truncate", errno);
          return FALSE;
        }
    }
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

/* ---- rewriting ------------------------------------------------------------- */

/* Finds, once, the fd offset of stream position 0 (`fd_start`), which
 * rewriting and preallocating need: the fd must be a regular file without
 * O_APPEND (where pwrite would append) that the stream has only written
 * to. */
static gboolean
fd_start_known (LfStream *stream)
{
  if (stream->rewrite_checked)
    return stream->rewritable;
  stream->rewrite_checked = TRUE;
  struct stat st;
  int flags = fcntl (stream->fd, F_GETFL);
  off_t now = lseek (stream->fd, 0, SEEK_CUR);
  guint64 written = stream->position - stream->wbuf_len;
  if (flags < 0 || (flags & O_APPEND) || now < 0 || fstat (stream->fd, &st) != 0
      || !S_ISREG (st.st_mode) || stream->rbuf_len > 0 || (guint64) now < written)
    return FALSE;
  stream->fd_start = (guint64) now - written;
  stream->rewritable = TRUE;
  return TRUE;
}

gboolean
lf_stream_can_rewrite (LfStream *stream)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  if (stream->kind == SOURCE_WRITER)
    return TRUE;
  return stream->kind == SOURCE_FD && fd_start_known (stream);
}

gboolean
lf_stream_rewrite (LfStream *stream, guint64 position, gconstpointer data, gsize count,
                   GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (data != NULL || count == 0, FALSE);
  g_return_val_if_fail (position <= stream->position
                        && count <= stream->position - position, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lf_stream_can_rewrite (stream))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "%s: cannot rewrite bytes already written (not a regular file "
                   "or a memory buffer)", stream->name);
      return FALSE;
    }
  /* The stream holds its last `held` bytes in memory: the writer's array,
   * or the write buffer of an fd.  What lies before them is in the file. */
  guint8 *held_data = stream->kind == SOURCE_WRITER ? stream->out->data : stream->wbuf;
  gsize held = stream->kind == SOURCE_WRITER ? stream->out->len : stream->wbuf_len;
  guint64 held_start = stream->position - held;
  const guint8 *bytes = data;
  if (position < held_start)
    {
      if (stream->kind == SOURCE_WRITER)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       "%s: cannot rewrite bytes already taken by lf_stream_steal_bytes",
                       stream->name);
          return FALSE;
        }
      gsize in_file = (gsize) MIN ((guint64) count, held_start - position);
      gsize done = 0;
      while (done < in_file)
        {
          gssize n = pwrite (stream->fd, bytes + done, in_file - done,
                             (off_t) (stream->fd_start + position + done));
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              set_io_error (error, stream->name, "write", n < 0 ? errno : EIO);
              return FALSE;
            }
          done += (gsize) n;
        }
      bytes += in_file;
      position += in_file;
      count -= in_file;
    }
  if (count > 0)
    memcpy (held_data + (position - held_start), bytes, count);
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
