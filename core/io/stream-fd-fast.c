/* The fast paths of file streams: what makes leafio read and write files
 * faster than a plain read/write loop (bench/RESULTS.md).
 *
 *   - paths read ahead into a window placed like the file's pages;
 *   - big reads from a path go into buffers of their own (read-buffer.c),
 *     from 2 MiB on split over two threads;
 *   - big writes to a regular file reserve their blocks first, and a file
 *     the stream owns is extended ahead and cut back on flush;
 *   - a header and a big body go out in one writev, with no copy;
 *   - bytes already written are rewritten in place with pwrite.
 */
#define _GNU_SOURCE 1   /* fallocate */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <leafio/leafio.h>
#include "helper-threads-private.h"
#include "settings-private.h"
#include "shared-read-private.h"
#include "stream-private.h"
#include "stream-fd-private.h"

#define PAGE 4096
/* From this size on, a big read has a second thread read half. */
#define SPLIT_READ_MIN ((gsize) 2 << 20)
/* Writes at least this big to a regular file reserve their blocks first. */
#define PREALLOCATE_MIN ((gsize) 1 << 20)

/* ---- read-ahead ------------------------------------------------------------ */

/* Refills a path's window at the address congruent to the file offset
 * modulo the page size, so that the kernel's copy into it and ours out of
 * it into congruent leaf buffers run at full speed (a copy whose
 * destination sits a little ahead of its source modulo 4 KiB runs at a
 * third of the speed on this class of machine). */
gssize
_lf_path_fill (LfStream *stream, GError **error)
{
  PathStream *path = (PathStream *) stream;
  guint8 *window = stream->rbuf_base + path->raw_offset % PAGE;
  gssize n = _lf_fd_read (stream, path->fd, window, stream->rbuf_cap, error);
  if (n > 0)
    path->raw_offset += (guint64) n;
  stream->rbuf = window;
  stream->rbuf_pos = 0;
  stream->rbuf_len = n > 0 ? (gsize) n : 0;
  return n;
}

/* ---- big reads --------------------------------------------------------------- */

typedef struct {
  int fd;
  guint8 *buffer;
  gsize count;
  guint64 offset;
  guint8 *populate;        /* fresh memory from here to the part's end, or NULL */
  gsize done;
  int saved_errno;
} ReadPart;

/* pread until `count` bytes, the end of the file or an error. */
static gpointer
read_part (gpointer data)
{
  ReadPart *part = data;
  if (part->populate != NULL)
    _lf_read_buffer_populate (part->populate,
                              (gsize) (part->buffer + part->count - part->populate));
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

/* Reads `rest` bytes at the fd's offset into `buffer`; from SPLIT_READ_MIN
 * on, a second thread reads the second half meanwhile (its page faults and
 * copy run on the other core).  When `fresh` is not NULL, the memory from
 * there to the end is fresh: each part faults its pages in first.  Returns
 * the bytes read; `*saved_errno` is the first error. */
static gsize
read_split (int fd, guint8 *buffer, gsize rest, guint64 offset, guint8 *fresh,
            int *saved_errno)
{
  ReadPart parts[2] = {
    { fd, buffer, rest, offset, fresh, 0, 0 },
    { fd, NULL, 0, 0, NULL, 0, 0 },
  };
  GThread *helper = NULL;
  if (rest >= SPLIT_READ_MIN && split_reads_enabled ())
    {
      gsize first = (rest / 2) & ~(gsize) (PAGE - 1);
      parts[1] = (ReadPart) { fd, buffer + first, rest - first, offset + first,
                              fresh != NULL ? buffer + first : NULL, 0, 0 };
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
  *saved_errno = parts[0].saved_errno ? parts[0].saved_errno : parts[1].saved_errno;
  return parts[0].done + parts[1].done;
}

static gboolean
pread_piece (gpointer data, guint8 *buffer, gsize length, guint64 offset)
{
  int fd = *(const int *) data;
  for (gsize done = 0; done < length;)
    {
      gssize n = pread (fd, buffer + done, length - done, (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += (gsize) n;
    }
  return TRUE;
}

/* A checked load (the stream hashes what it hands out): the caller and a
 * helper read the range in pieces and the caller hashes each as it lands,
 * instead of hashing the whole buffer from memory afterwards.  FALSE when
 * a piece could not be read; read_split then reads again for the error. */
static gboolean
read_hashed (LfStream *stream, int fd, guint8 *data, gsize head, gsize count,
             guint64 offset, gboolean fresh)
{
  if (stream->hashing == NULL || count - head < LF_SHARED_READ_MIN
      || !_lf_helpers_available ())
    return FALSE;
  XXH3_64bits_update (stream->hashing, data, head);
  if (_lf_shared_read_hashed (pread_piece, &fd, data + head, count - head, offset, fresh,
                              stream->hashing))
    {
      _lf_stream_hashed (stream, count);
      return TRUE;
    }
  stream->hash_broken = TRUE;
  return FALSE;
}

/* Reads `count` bytes (known to be in the file) into a big buffer: what the
 * window holds first, then the rest straight from the file.  NULL with
 * `*error` unset when the size is unknown or no buffer could be mapped. */
GBytes *
_lf_path_read_bytes (LfStream *stream, gsize count, GError **error)
{
  PathStream *path = (PathStream *) stream;
  if (!stream->size_known)
    return NULL;
  gsize avail = stream->rbuf_len - stream->rbuf_pos;
  guint64 at = path->raw_offset - avail;
  guint8 *data;
  gboolean fresh;
  GBytes *bytes = _lf_read_buffer_new_in (&path->arena, count, at,
                                          stream->input_size - MIN (at, stream->input_size),
                                          &data, &fresh);
  if (bytes == NULL)
    return NULL;
  gsize head = MIN (avail, count);
  int saved = 0;
  gsize read;
  if (head > 0)
    memcpy (data, stream->rbuf + stream->rbuf_pos, head);
  if (read_hashed (stream, path->fd, data, head, count, path->raw_offset, fresh))
    read = count - head;
  else
    {
      read = read_split (path->fd, data + head, count - head, path->raw_offset,
                         fresh ? data + head : NULL, &saved);
      if (saved == 0 && head + read == count)
        _lf_stream_hash_read (stream, data, count);
    }
  stream->rbuf_pos += head;
  gsize got = head + read;
  /* Our own fd: move it past what the parts read with pread. */
  path->raw_offset += read;
  if (lseek (path->fd, (off_t) path->raw_offset, SEEK_SET) < 0 && saved == 0)
    saved = errno;
  stream->position += got;
  if (saved != 0)
    {
      _lf_stream_set_io_error (error, stream, "read", saved);
      g_bytes_unref (bytes);
      return NULL;
    }
  if (got < count)
    {
      _lf_stream_set_truncated (error, stream, stream->position - got, count, got);
      g_bytes_unref (bytes);
      return NULL;
    }
  return bytes;
}

/* ---- where an fd's stream starts ------------------------------------------------ */

/* Finds, once, the fd offset of stream position 0 (`fd_start`), which
 * rewriting and preallocating need: the fd must be a regular file without
 * O_APPEND (where pwrite would append) that the stream has only written
 * to. */
static gboolean
fd_start_known (FdStream *self)
{
  LfStream *stream = &self->parent;
  if (self->start_checked)
    return self->start_known;
  self->start_checked = TRUE;
  struct stat st;
  int flags = fcntl (self->fd, F_GETFL);
  off_t now = lseek (self->fd, 0, SEEK_CUR);
  guint64 written = stream->position - stream->wbuf_len;
  if (flags < 0 || (flags & O_APPEND) || now < 0 || fstat (self->fd, &st) != 0
      || !S_ISREG (st.st_mode) || stream->rbuf_len > 0 || (guint64) now < written)
    return FALSE;
  self->fd_start = (guint64) now - written;
  self->start_known = TRUE;
  return TRUE;
}

/* ---- preallocation --------------------------------------------------------------- */

/* Before `count` bytes go to a regular file at stream position
 * `position`: reserves their blocks.  ext4 then skips the delayed
 * allocation bookkeeping of every page, a quarter of a big write's time
 * here.  In a file the stream owns past its start, the file is extended
 * at once too (writes inside the file's size are cheaper still), and
 * lf_stream_flush cuts it back to what was written; in a caller's file
 * only blocks are reserved, its size is left to the writes.  Best effort:
 * the write itself reports any error. */
void
_lf_fd_reserve (LfStream *stream, guint64 position, gsize count)
{
#ifdef HAVE_FALLOCATE
  FdStream *self = (FdStream *) stream;
  if (count < PREALLOCATE_MIN || self->no_preallocate || !fd_start_known (self))
    return;
  /* Already extended this far (lf_stream_expect before chunked writes). */
  if (self->owns_tail && position + count <= self->reserved_end)
    return;
  int mode = self->owns_tail ? 0 : FALLOC_FL_KEEP_SIZE;
  if (fallocate (self->fd, mode, (off_t) (self->fd_start + position), (off_t) count) != 0)
    self->no_preallocate = TRUE;
  else if (self->owns_tail)
    self->reserved_end = MAX (self->reserved_end, position + count);
#else
  (void) stream;
  (void) position;
  (void) count;
#endif
}

gboolean
_lf_fd_flush (LfStream *stream, GError **error)
{
  FdStream *self = (FdStream *) stream;
  if (self->reserved_end <= stream->position)
    return TRUE;
  /* Extended ahead further than written: cut back to the bytes written. */
  self->reserved_end = 0;
  if (ftruncate (self->fd, (off_t) (self->fd_start + stream->position)) != 0)
    {
      _lf_stream_set_io_error (error, stream, "truncate", errno);
      return FALSE;
    }
  return TRUE;
}

/* ---- write-behind ------------------------------------------------------------------ */

/* A file that will be synced has its writeback started every this many
 * bytes: the disk then writes while we copy the next ones into the page
 * cache, and the final fsync waits for the last piece only. */
#define WRITE_BEHIND_STEP ((gsize) 32 << 20)

void
_lf_fd_wrote (FdStream *self, gsize count)
{
  if (!self->write_behind)
    return;
  self->unsynced += count;
  if (self->unsynced < WRITE_BEHIND_STEP)
    return;
#ifdef SYNC_FILE_RANGE_WRITE
  /* The bytes just written end at the fd's offset.  Best effort: the sync
   * that follows the save reports any error. */
  off_t end = lseek (self->fd, 0, SEEK_CUR);
  if (end >= (off_t) self->unsynced)
    (void) sync_file_range (self->fd, end - (off_t) self->unsynced, (off_t) self->unsynced,
                            SYNC_FILE_RANGE_WRITE);
#endif
  self->unsynced = 0;
}

/* ---- a header and a big body in one call ------------------------------------------ */

/* Writes the pieces with writev until all is written. */
static gboolean
writev_all (LfStream *stream, int fd, struct iovec *iov, int n_iov, GError **error)
{
  while (n_iov > 0)
    {
      gssize n = writev (fd, iov, n_iov);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          _lf_stream_set_io_error (error, stream, "write", n < 0 ? errno : EIO);
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
_lf_fd_write2 (LfStream *stream, gconstpointer header, gsize header_size,
               gconstpointer data, gsize data_size, GError **error)
{
  /* Header into the buffer, then the buffer and the data in one call. */
  if (!lf_stream_write (stream, header, header_size, error))
    return FALSE;
  struct iovec iov[2] = {
    { stream->wbuf, stream->wbuf_len },
    { (void *) data, data_size },
  };
  _lf_fd_reserve (stream, stream->position - stream->wbuf_len, stream->wbuf_len + data_size);
  int first = stream->wbuf_len > 0 ? 0 : 1;
  gsize count = stream->wbuf_len + data_size;
  stream->wbuf_len = 0;  /* dropped even on failure, as a buffer flush does */
  if (!writev_all (stream, ((FdStream *) stream)->fd, iov + first, 2 - first, error))
    return FALSE;
  _lf_fd_wrote ((FdStream *) stream, count);
  stream->position += data_size;
  return TRUE;
}

/* ---- rewriting ---------------------------------------------------------------------- */

gboolean
_lf_fd_can_rewrite (LfStream *stream)
{
  return fd_start_known ((FdStream *) stream);
}

/* The bytes before the write buffer are in the file (pwrite); the rest
 * are still in the buffer. */
gboolean
_lf_fd_rewrite (LfStream *stream, guint64 position, const guint8 *data, gsize count,
                GError **error)
{
  FdStream *self = (FdStream *) stream;
  guint64 held_start = stream->position - stream->wbuf_len;
  if (position < held_start)
    {
      gsize in_file = (gsize) MIN ((guint64) count, held_start - position);
      gsize done = 0;
      while (done < in_file)
        {
          gssize n = pwrite (self->fd, data + done, in_file - done,
                             (off_t) (self->fd_start + position + done));
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              _lf_stream_set_io_error (error, stream, "write", n < 0 ? errno : EIO);
              return FALSE;
            }
          done += (gsize) n;
        }
      data += in_file;
      position += in_file;
      count -= in_file;
    }
  if (count > 0)
    memcpy (stream->wbuf + (position - held_start), data, count);
  return TRUE;
}
