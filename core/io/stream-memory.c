/* Memory streams: reading bytes that are all in memory already (the
 * caller's data, GBytes, a mapped file), and the memory writer. */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <leafio/leafio.h>
#include "stream-private.h"
#include "stream-source-private.h"

/* ---- reading memory ---------------------------------------------------------- */

/* The whole input is the read window and never moves: the window's
 * position is the offset into the data. */
typedef struct {
  LfStream parent;
  GBytes *bytes;           /* keeps the data alive; NULL for the caller's data */
} MemoryStream;

static gssize
memory_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  return 0;  /* everything was in the window */
}

/* Slices of the GBytes, without a copy. */
static GBytes *
memory_read_bytes (LfStream *stream, gsize count, GError **error)
{
  GBytes *slice = g_bytes_new_from_bytes (((MemoryStream *) stream)->bytes, stream->rbuf_pos,
                                          count);
  _lf_stream_hash_read (stream, stream->rbuf + stream->rbuf_pos, count);
  stream->rbuf_pos += count;
  stream->position += count;
  return slice;
}

static void
memory_finalize (LfStream *stream)
{
  g_clear_pointer (&((MemoryStream *) stream)->bytes, g_bytes_unref);
}

/* The caller's data; and GBytes (or a mapping), which hand out slices. */
static const LfStreamClass memory_class = {
  .instance_size = sizeof (MemoryStream),
  .read = memory_read,
};

static const LfStreamClass memory_bytes_class = {
  .instance_size = sizeof (MemoryStream),
  .read = memory_read,
  .read_bytes = memory_read_bytes,
  .finalize = memory_finalize,
};

/* A stream over `size` bytes at `data`, kept alive by `bytes` (taken;
 * may be NULL). */
static LfStream *
memory_stream_new (const char *name, gconstpointer data, gsize size, GBytes *bytes)
{
  LfStream *stream = _lf_stream_new (bytes != NULL ? &memory_bytes_class : &memory_class, name);
  ((MemoryStream *) stream)->bytes = bytes;
  stream->rbuf = data;
  stream->rbuf_len = size;
  stream->size_known = TRUE;
  stream->input_size = size;
  return stream;
}

LfStream *
lf_stream_new_for_data (gconstpointer data, gsize size)
{
  g_return_val_if_fail (data != NULL || size == 0, NULL);
  return memory_stream_new ("memory", data, size, NULL);
}

LfStream *
lf_stream_new_for_bytes (GBytes *bytes)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  gsize size;
  gconstpointer data = g_bytes_get_data (bytes, &size);
  return memory_stream_new ("memory", data, size, g_bytes_ref (bytes));
}

LfStream *
_lf_stream_new_for_mapping (const char *name, GBytes *mapping)
{
  gsize size;
  gconstpointer data = g_bytes_get_data (mapping, &size);
  return memory_stream_new (name, data, size, mapping);
}

/* ---- the memory writer ------------------------------------------------------- */

/* Appends straight to a growing array: no write buffer to copy through. */
typedef struct {
  LfStream parent;
  GByteArray *out;
} WriterStream;

static gboolean
writer_write (LfStream *stream, const guint8 *data, gsize count, GError **error)
{
  GByteArray *out = ((WriterStream *) stream)->out;
  /* GByteArray sizes are guint. */
  if (count > G_MAXUINT - out->len)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: write failed: %s", stream->name,
                   g_strerror (EFBIG));
      return FALSE;
    }
  g_byte_array_append (out, data, (guint) count);
  return TRUE;
}

static gboolean
writer_can_rewrite (LfStream *stream)
{
  return TRUE;
}

static gboolean
writer_rewrite (LfStream *stream, guint64 position, const guint8 *data, gsize count,
                GError **error)
{
  GByteArray *out = ((WriterStream *) stream)->out;
  /* The array holds the bytes written since the last lf_stream_steal_bytes. */
  guint64 held_start = stream->position - out->len;
  if (position < held_start)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "%s: cannot rewrite bytes already taken by lf_stream_steal_bytes",
                   stream->name);
      return FALSE;
    }
  if (count > 0)
    memcpy (out->data + (position - held_start), data, count);
  return TRUE;
}

static GBytes *
writer_steal_bytes (LfStream *stream)
{
  WriterStream *writer = (WriterStream *) stream;
  GBytes *bytes = g_byte_array_free_to_bytes (writer->out);
  writer->out = g_byte_array_new ();
  return bytes;
}

static void
writer_finalize (LfStream *stream)
{
  g_byte_array_unref (((WriterStream *) stream)->out);
}

static const LfStreamClass writer_class = {
  .instance_size = sizeof (WriterStream),
  .write = writer_write,
  .buffer_writes = FALSE,
  .can_rewrite = writer_can_rewrite,
  .rewrite = writer_rewrite,
  .steal_bytes = writer_steal_bytes,
  .finalize = writer_finalize,
};

LfStream *
lf_stream_new_memory (void)
{
  LfStream *stream = _lf_stream_new (&writer_class, "memory");
  ((WriterStream *) stream)->out = g_byte_array_new ();
  return stream;
}
