/* Byte streams: the calls every kind of stream shares.
 *
 * A stream is a read window and a write buffer over a source (see
 * stream-source-private.h): reads are served from the window first and go
 * to the source when it is empty; writes collect in the buffer and go to
 * the source when it is full, when they are big, or on a flush.  What
 * differs between sources (memory, paths, fds, FILE *, callbacks, the
 * memory writer) lives in their classes, one file each.
 */
#include "config.h"
#include <string.h>
#include <xxhash.h>
#include <leafio/leafio.h>
#include "helper-threads-private.h"
#include "read-buffer-private.h"
#include "stream-private.h"
#include "stream-source-private.h"

/* read_bytes grows its buffer by this much when the size left is unknown,
 * so a lying length costs at most one chunk beyond the real input. */
#define READ_CHUNK_SIZE ((gsize) 16 * 1024 * 1024)

/* ---- construction ---------------------------------------------------------- */

LfStream *
_lf_stream_new (const LfStreamClass *klass, const char *name)
{
  g_assert (klass->instance_size >= sizeof (LfStream));
  LfStream *stream = g_malloc0 (klass->instance_size);
  stream->klass = klass;
  stream->name = g_strdup (name);
  return stream;
}

void
_lf_stream_set_io_error (GError **error, const LfStream *stream, const char *what,
                         int saved_errno)
{
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: %s failed: %s", stream->name, what,
               g_strerror (saved_errno));
}

void
_lf_stream_set_truncated (GError **error, const LfStream *stream, guint64 offset,
                          guint64 expected, guint64 found)
{
  g_set_error (error, LF_ERROR, LF_ERROR_TRUNCATED,
               "%s: expected %" G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT
               ", found %" G_GUINT64_FORMAT, stream->name, expected, stream->origin + offset,
               found);
}

void
_lf_stream_set_origin (LfStream *stream, guint64 origin)
{
  stream->origin = origin;
}

static void
set_not_readable (GError **error, const LfStream *stream)
{
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: stream is not readable", stream->name);
}

void
lf_stream_free (LfStream *stream)
{
  if (stream == NULL)
    return;
  lf_stream_flush (stream, NULL);
  if (stream->klass->finalize != NULL)
    stream->klass->finalize (stream);
  _lf_read_slab_release (stream->slab);
  g_free (stream->rbuf_base);
  g_free (stream->wbuf);
  XXH3_freeState (stream->hash_state);
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

/* ---- reading --------------------------------------------------------------- */

static gboolean flush_write_buffer (LfStream *stream, GError **error);

static inline gsize
window_size (const LfStream *stream)
{
  return stream->rbuf_len - stream->rbuf_pos;
}

/* One read from the source past the window. */
static gssize
source_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  if (stream->klass->read == NULL)
    {
      set_not_readable (error, stream);
      return -1;
    }
  return stream->klass->read (stream, buffer, count, error);
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

  gsize avail = window_size (stream);
  /* Small reads from a source that reads ahead go through the window;
   * big ones go straight into the caller's buffer. */
  if (avail == 0 && stream->klass->fill != NULL && count < stream->rbuf_cap)
    {
      gssize n = stream->klass->fill (stream, error);
      if (n <= 0)
        return n;
      avail = (gsize) n;
    }
  if (avail > 0)
    {
      gsize n = MIN (avail, count);
      memcpy (buffer, stream->rbuf + stream->rbuf_pos, n);
      _lf_stream_hash_read (stream, buffer, n);
      stream->rbuf_pos += n;
      stream->position += n;
      return (gssize) n;
    }
  gssize n = source_read (stream, buffer, count, error);
  if (n > 0)
    {
      _lf_stream_hash_read (stream, buffer, (gsize) n);
      stream->position += (guint64) n;
    }
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
      _lf_stream_set_truncated (error, stream, stream->position - (gsize) n, count,
                                (gsize) n);
      return FALSE;
    }
  return TRUE;
}

/* TRUE and the bytes left when the size of the input is known.  A file
 * may have changed size under us: never less than the window holds, never
 * negative. */
static inline gboolean
get_remaining (const LfStream *stream, guint64 *remaining)
{
  if (!stream->size_known)
    return FALSE;
  guint64 left = stream->input_size > stream->position
                 ? stream->input_size - stream->position : 0;
  *remaining = MAX (left, window_size (stream));
  return TRUE;
}

gboolean
lf_stream_get_remaining (const LfStream *stream, guint64 *remaining)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  guint64 left;
  if (!get_remaining (stream, &left))
    return FALSE;
  if (remaining != NULL)
    *remaining = left;
  return TRUE;
}

/* Fails with LF_ERROR_TRUNCATED when the stream knows it holds fewer than
 * `count` bytes. */
static gboolean
check_remaining (LfStream *stream, gsize count, GError **error)
{
  guint64 remaining;
  if (get_remaining (stream, &remaining) && count > remaining)
    {
      _lf_stream_set_truncated (error, stream, stream->position, count, remaining);
      return FALSE;
    }
  return TRUE;
}

/* Memory for `count` bytes read from the stream (copied from `source`
 * when it is in the window): a piece of a slab for middle sizes, which the
 * next load reuses without page faults, else the heap. */
static GBytes *
new_read_bytes (LfStream *stream, gsize count, const guint8 *source, guint8 **data)
{
  if (count >= LF_READ_SLAB_MIN && count <= LF_READ_SLAB_MAX)
    {
      GBytes *bytes = _lf_read_slab_new (&stream->slab, count, source, data);
      if (bytes != NULL)
        return bytes;
    }
  *data = g_malloc (MAX (count, 1));
  return g_bytes_new_take (*data, count);
}

/* Small data already in the window: one copy, no calls. */
static GBytes *
copy_from_window (LfStream *stream, gsize count)
{
  /* An empty read may come before the window has a buffer. */
  const guint8 *source = stream->rbuf != NULL ? stream->rbuf + stream->rbuf_pos : NULL;
  guint8 *data;
  GBytes *bytes = new_read_bytes (stream, count, source, &data);
  if (count > 0)
    memcpy (data, source, count);
  _lf_stream_consume (stream, count);
  return bytes;
}

GBytes *
lf_stream_read_bytes (LfStream *stream, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  const LfStreamClass *klass = stream->klass;
  /* The common case of many small leaves: they are in the window. */
  gboolean in_window = count <= window_size (stream) && stream->wbuf_len == 0;
  guint64 remaining;
  gboolean known = get_remaining (stream, &remaining);
  if (!in_window && known && count > remaining)
    {
      _lf_stream_set_truncated (error, stream, stream->position, count, remaining);
      return NULL;
    }
  if (klass->read_bytes != NULL && count >= klass->read_bytes_min)
    {
      GError *local = NULL;
      GBytes *bytes = klass->read_bytes (stream, count, &local);
      if (bytes != NULL || local != NULL)
        {
          if (local != NULL)
            g_propagate_error (error, local);
          return bytes;
        }
    }
  if (in_window)
    return copy_from_window (stream, count);
  if (known)
    {
      guint8 *data;
      GBytes *bytes = new_read_bytes (stream, count, NULL, &data);
      if (!lf_stream_read (stream, data, count, error))
        {
          g_bytes_unref (bytes);
          return NULL;
        }
      return bytes;
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
          _lf_stream_set_truncated (error, stream, stream->position - done, count, done);
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

  if (!check_remaining (stream, count, error))
    return FALSE;
  /* What the window holds is skipped without a call (all of it in memory). */
  gsize done = MIN (count, window_size (stream));
  if (stream->wbuf_len == 0)
    _lf_stream_consume (stream, done);
  else
    done = 0;
  guint8 scratch[8192];
  while (done < count)
    {
      gssize n = lf_stream_read_some (stream, scratch, MIN (count - done, sizeof scratch),
                                      error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          _lf_stream_set_truncated (error, stream, stream->position - done, count, done);
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

  if (window_size (stream) > 0)
    {
      *at_end = FALSE;
      return TRUE;
    }
  if (stream->wbuf_len > 0 && !flush_write_buffer (stream, error))
    return FALSE;
  /* Look ahead: a source that reads ahead fills its window; the others
   * read one byte, which the next read hands out first. */
  gssize n;
  if (stream->klass->fill != NULL)
    n = stream->klass->fill (stream, error);
  else
    {
      n = source_read (stream, &stream->peek_byte, 1, error);
      if (n > 0)
        {
          stream->rbuf = &stream->peek_byte;
          stream->rbuf_pos = 0;
          stream->rbuf_len = 1;
        }
    }
  if (n < 0)
    return FALSE;
  *at_end = n == 0;
  return TRUE;
}

/* ---- peeking ------------------------------------------------------------------ */

const guint8 *
_lf_stream_peek (LfStream *stream, gsize *available)
{
  /* NULL when nothing is there: an empty stream may have no buffer at all,
   * and NULL + 0 is undefined behaviour. */
  *available = stream->wbuf_len > 0 ? 0 : window_size (stream);
  return *available > 0 ? stream->rbuf + stream->rbuf_pos : NULL;
}

void
_lf_stream_consume (LfStream *stream, gsize count)
{
  if (count > 0)
    _lf_stream_hash_read (stream, stream->rbuf + stream->rbuf_pos, count);
  stream->rbuf_pos += count;
  stream->position += count;
}

/* A path's refill puts its window up to a page into the buffer. */
#define PEEK_SLACK ((gsize) 4096)

/* Moves the window to the start of a buffer of the stream's own that holds
 * at least `count` bytes.  The caller's streams get a buffer the first
 * time they peek; a path's read-ahead buffer grows past its 128 KiB for
 * the rare peek that needs more (a zstd block of up to 128 KiB behind a
 * header), keeping the page of slack its refills place the window in. */
static void
gather_window (LfStream *stream, gsize count)
{
  gsize avail = window_size (stream);
  if (stream->rbuf_base == NULL || stream->rbuf_cap < count)
    {
      gsize cap = MAX (count, 64);
      guint8 *buffer = g_malloc (cap + PEEK_SLACK);
      if (avail > 0)
        memcpy (buffer, stream->rbuf + stream->rbuf_pos, avail);
      g_free (stream->rbuf_base);
      stream->rbuf_base = buffer;
      stream->rbuf_cap = cap;
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
  if (stream->klass->read == NULL)
    {
      set_not_readable (error, stream);
      return NULL;
    }
  guint64 remaining;
  if (window_size (stream) < count
      && !(get_remaining (stream, &remaining) && remaining == window_size (stream)))
    {
      gather_window (stream, count);
      /* Sources that read ahead do so as usual; the caller's streams take
       * exactly what is shown, so their position stays right after the
       * last record. */
      gsize want = stream->klass->fill != NULL ? stream->rbuf_cap : count;
      while (stream->rbuf_len < count)
        {
          gssize n = stream->klass->read (stream, stream->rbuf_base + stream->rbuf_len,
                                          want - stream->rbuf_len, error);
          if (n < 0)
            return NULL;
          if (n == 0)
            break;
          stream->rbuf_len += (gsize) n;
        }
    }
  gsize avail = window_size (stream);
  if (avail < count)
    {
      _lf_stream_set_truncated (error, stream, stream->position, count, avail);
      return NULL;
    }
  return avail > 0 ? stream->rbuf + stream->rbuf_pos : empty;
}

/* ---- writing --------------------------------------------------------------- */

static gboolean
check_writable (LfStream *stream, GError **error)
{
  if (stream->klass->write != NULL)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: stream is not writable", stream->name);
  return FALSE;
}

static gboolean
flush_write_buffer (LfStream *stream, GError **error)
{
  gsize len = stream->wbuf_len;
  /* Dropped even on failure: a retry would duplicate the bytes that did go. */
  stream->wbuf_len = 0;
  return len == 0 || stream->klass->write (stream, stream->wbuf, len, error);
}

/* Bytes hashed while they are written (_lf_stream_hash_begin): a big
 * write's on a helper thread while the kernel copies them, both reading
 * the same memory, so that a save with a manifest takes about as long as
 * one without. */
#define HASH_BESIDE_MIN ((gsize) 1 << 20)

typedef struct {
  XXH3_state_t *state;
  const void *data;
  gsize size;
  LfHelperTask *task;
} Hashing;

static void
hash_bytes (gpointer data, gpointer unused)
{
  Hashing *h = data;
  XXH3_64bits_update (h->state, h->data, h->size);
}

/* Starts hashing `size` bytes at `data` into `state` (may be NULL: off). */
static void
hashing_start (Hashing *h, XXH3_state_t *state, const void *data, gsize size)
{
  *h = (Hashing) { state, data, size, NULL };
  if (state == NULL)
    return;
  if (size >= HASH_BESIDE_MIN)
    h->task = _lf_helper_start (hash_bytes, h);
  else
    hash_bytes (h, NULL);
}

/* Returns once the bytes are hashed. */
static void
hashing_finish (Hashing *h)
{
  if (h->task != NULL)
    _lf_helper_finish (g_steal_pointer (&h->task));
}

static gboolean
write_unhashed (LfStream *stream, gconstpointer data, gsize count, GError **error)
{
  if (!stream->klass->buffer_writes)
    {
      if (!stream->klass->write (stream, data, count, error))
        return FALSE;
      stream->position += count;
      return TRUE;
    }
  if (count == 0)
    return TRUE;
  if (stream->wbuf == NULL)
    stream->wbuf = g_malloc (LF_STREAM_WRITE_BUFFER_SIZE);

  if (stream->wbuf_len + count > LF_STREAM_WRITE_BUFFER_SIZE
      && !flush_write_buffer (stream, error))
    return FALSE;
  if (count >= LF_STREAM_WRITE_BUFFER_SIZE)
    {
      if (stream->klass->reserve != NULL)
        stream->klass->reserve (stream, stream->position, count);
      if (!stream->klass->write (stream, data, count, error))
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
lf_stream_write (LfStream *stream, gconstpointer data, gsize count, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (data != NULL || count == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_writable (stream, error))
    return FALSE;
  Hashing hashing;
  hashing_start (&hashing, stream->hashing, data, count);
  if (stream->hashing != NULL)
    stream->hashed_to += count;
  gboolean ok = write_unhashed (stream, data, count, error);
  hashing_finish (&hashing);
  return ok;
}

gboolean
_lf_stream_write2 (LfStream *stream, gconstpointer header, gsize header_size,
                   gconstpointer data, gsize data_size, GError **error)
{
  if (stream->klass->write2 == NULL || data_size < LF_STREAM_WRITE_BUFFER_SIZE)
    return lf_stream_write (stream, header, header_size, error)
           && lf_stream_write (stream, data, data_size, error);
  /* The class writes the header through lf_stream_write: both are hashed
   * here, in order, and not again there. */
  XXH3_state_t *state = g_steal_pointer (&stream->hashing);
  if (state != NULL)
    {
      XXH3_64bits_update (state, header, header_size);
      stream->hashed_to += header_size + data_size;
    }
  Hashing hashing;
  hashing_start (&hashing, state, data, data_size);
  gboolean ok = stream->klass->write2 (stream, header, header_size, data, data_size, error);
  hashing_finish (&hashing);
  stream->hashing = state;
  return ok;
}

void
lf_stream_expect (LfStream *stream, guint64 count)
{
  g_return_if_fail (stream != NULL);
  if (stream->klass->reserve != NULL && count <= G_MAXSIZE)
    stream->klass->reserve (stream, stream->position, (gsize) count);
}

gboolean
lf_stream_flush (LfStream *stream, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!flush_write_buffer (stream, error))
    return FALSE;
  return stream->klass->flush == NULL || stream->klass->flush (stream, error);
}

gboolean
lf_stream_sync (LfStream *stream, GError **error)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lf_stream_flush (stream, error))
    return FALSE;
  return stream->klass->sync == NULL || stream->klass->sync (stream, error);
}

/* ---- rewriting ------------------------------------------------------------- */

gboolean
lf_stream_can_rewrite (LfStream *stream)
{
  g_return_val_if_fail (stream != NULL, FALSE);
  return stream->klass->can_rewrite != NULL && stream->klass->can_rewrite (stream);
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
  if (stream->hashing != NULL && position + count > stream->hash_start)
    stream->hash_broken = TRUE;
  return stream->klass->rewrite (stream, position, data, count, error);
}

/* ---- hashing what is written or read -------------------------------------- */

void
_lf_stream_hash_begin (LfStream *stream)
{
  if (stream->hash_state == NULL)
    stream->hash_state = XXH3_createState ();
  /* Without a state (no memory), every record is left to the file. */
  stream->hash_broken = stream->hash_state == NULL
                        || XXH3_64bits_reset (stream->hash_state) != XXH_OK;
  stream->hashing = stream->hash_broken ? NULL : stream->hash_state;
  stream->hash_start = stream->hashed_to = stream->position;
}

void
_lf_stream_hashed (LfStream *stream, gsize count)
{
  /* Bytes that skipped the hash on their way out leave a gap. */
  if (stream->hashed_to != stream->position)
    stream->hash_broken = TRUE;
  stream->hashed_to = stream->position + count;
}

void
_lf_stream_hash_update (LfStream *stream, const void *data, gsize count)
{
  XXH3_64bits_update (stream->hashing, data, count);
  _lf_stream_hashed (stream, count);
}

gboolean
_lf_stream_hash_end (LfStream *stream, guint64 *hash)
{
  gboolean ok = !stream->hash_broken && stream->hashing != NULL
                && stream->hashed_to == stream->position;
  if (ok)
    *hash = XXH3_64bits_digest (stream->hashing);
  stream->hashing = NULL;
  return ok;
}

GBytes *
lf_stream_steal_bytes (LfStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);
  return stream->klass->steal_bytes != NULL ? stream->klass->steal_bytes (stream) : NULL;
}
