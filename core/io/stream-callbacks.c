/* Streams over a caller's read and write functions: read exactly what is
 * asked, written through the write buffer.  A stream given only one
 * function is read-only or write-only. */
#include "config.h"
#include <leafio/leafio.h>
#include "stream-private.h"
#include "stream-source-private.h"

typedef struct {
  LfStream parent;
  LfReadFunc read_func;
  LfWriteFunc write_func;
  gpointer user_data;
  GDestroyNotify destroy;
} CallbackStream;

static gssize
callback_read (LfStream *stream, void *buffer, gsize count, GError **error)
{
  CallbackStream *self = (CallbackStream *) stream;
  GError *local = NULL;
  gssize n = self->read_func (self->user_data, buffer, count, &local);
  if (n < 0)
    {
      if (local == NULL)
        g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: read failed", stream->name);
      else
        g_propagate_prefixed_error (error, local, "%s: ", stream->name);
      return -1;
    }
  /* A function that set an error but did not fail: the bytes count. */
  g_clear_error (&local);
  return (gssize) MIN ((gsize) n, count);
}

static gboolean
callback_write (LfStream *stream, const guint8 *data, gsize count, GError **error)
{
  CallbackStream *self = (CallbackStream *) stream;
  GError *local = NULL;
  if (!self->write_func (self->user_data, data, count, &local))
    {
      if (local == NULL)
        g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: write failed", stream->name);
      else
        g_propagate_prefixed_error (error, local, "%s: ", stream->name);
      return FALSE;
    }
  g_clear_error (&local);
  return TRUE;
}

static void
callback_finalize (LfStream *stream)
{
  CallbackStream *self = (CallbackStream *) stream;
  if (self->destroy != NULL)
    self->destroy (self->user_data);
}

/* One class for each set of functions given: a missing one leaves its
 * slot empty, so the stream says it is not readable or not writable. */
static const LfStreamClass callback_classes[3] = {
  {   /* read and write */
    .instance_size = sizeof (CallbackStream),
    .read = callback_read,
    .write = callback_write,
    .buffer_writes = TRUE,
    .finalize = callback_finalize,
  },
  {   /* read only */
    .instance_size = sizeof (CallbackStream),
    .read = callback_read,
    .finalize = callback_finalize,
  },
  {   /* write only */
    .instance_size = sizeof (CallbackStream),
    .write = callback_write,
    .buffer_writes = TRUE,
    .finalize = callback_finalize,
  },
};

LfStream *
lf_stream_new_for_callbacks (LfReadFunc read_func, LfWriteFunc write_func,
                             gpointer user_data, GDestroyNotify destroy)
{
  g_return_val_if_fail (read_func != NULL || write_func != NULL, NULL);
  const LfStreamClass *klass = &callback_classes[write_func == NULL ? 1
                                                 : read_func == NULL ? 2 : 0];
  LfStream *stream = _lf_stream_new (klass, "callbacks");
  CallbackStream *self = (CallbackStream *) stream;
  self->read_func = read_func;
  self->write_func = write_func;
  self->user_data = user_data;
  self->destroy = destroy;
  return stream;
}
