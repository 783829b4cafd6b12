/* Every kind of stream source through the same checks: peeking (what codecs
 * describe records with), reading, skipping and the end after a peek, and
 * that the caller's fd, FILE * and callbacks are consumed exactly as far as
 * what was shown and read.  test-stream.c covers each constructor. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "test-common.h"

#define SIZE ((gsize) 300 * 1000)

static guint8 *
pattern (void)
{
  guint8 *data = g_malloc (SIZE);
  for (gsize i = 0; i < SIZE; i++)
    data[i] = (guint8) (i * 13 + i / 509);
  return data;
}

/* ---- the sources ------------------------------------------------------------- */

typedef enum {
  SOURCE_DATA, SOURCE_BYTES, SOURCE_MAPPED, SOURCE_PATH, SOURCE_FD, SOURCE_FILE,
  SOURCE_CALLBACKS, N_SOURCES
} Source;

static const char *const source_names[] = {
  "data", "bytes", "mapped", "path", "fd", "FILE", "callbacks",
};

typedef struct {
  const guint8 *data;
  gsize at;
} Reader;

/* Hands out at most 1000 bytes a call, so reads and peeks must loop. */
static gssize
read_in_pieces (gpointer user_data, void *buffer, gsize count, GError **error)
{
  Reader *r = user_data;
  gsize n = MIN (MIN (count, SIZE - r->at), 1000);
  memcpy (buffer, r->data + r->at, n);
  r->at += n;
  return (gssize) n;
}

/* A stream of one source over the pattern, and the caller's own handle
 * behind it. */
typedef struct {
  Source source;
  LfStream *stream;
  GBytes *bytes;
  int fd;
  FILE *file;
  Reader reader;
} Opened;

static void
open_source (Opened *o, Source source, const guint8 *data)
{
  memset (o, 0, sizeof *o);
  o->source = source;
  o->fd = -1;
  o->reader.data = data;
  g_autofree char *path = lf_test_path ("sources.bin");
  if (source >= SOURCE_MAPPED && source <= SOURCE_FILE)
    lf_test_write_file (path, data, SIZE);
  GError *error = NULL;
  switch (source)
    {
    case SOURCE_DATA:
      o->stream = lf_stream_new_for_data (data, SIZE);
      break;
    case SOURCE_BYTES:
      o->bytes = g_bytes_new (data, SIZE);
      o->stream = lf_stream_new_for_bytes (o->bytes);
      break;
    case SOURCE_MAPPED:
    case SOURCE_PATH:
      o->stream = lf_stream_new_for_path (path, source == SOURCE_MAPPED, &error);
      LF_ASSERT_NO_ERROR (error);
      break;
    case SOURCE_FD:
      o->fd = open (path, O_RDONLY);
      ck_assert_int_ge (o->fd, 0);
      o->stream = lf_stream_new_for_fd (o->fd, FALSE);
      break;
    case SOURCE_FILE:
      o->file = fopen (path, "rb");
      ck_assert_ptr_nonnull (o->file);
      o->stream = lf_stream_new_for_file (o->file);
      break;
    default:
      o->stream = lf_stream_new_for_callbacks (read_in_pieces, NULL, &o->reader, NULL);
      break;
    }
}

/* How far the caller's own handle went, or -1 for the streams leafio owns
 * (which may read ahead). */
static gint64
caller_position (const Opened *o)
{
  switch (o->source)
    {
    case SOURCE_FD: return lseek (o->fd, 0, SEEK_CUR);
    case SOURCE_FILE: return ftell (o->file);
    case SOURCE_CALLBACKS: return (gint64) o->reader.at;
    default: return -1;
    }
}

static void
close_source (Opened *o)
{
  lf_stream_free (o->stream);
  if (o->fd >= 0)
    close (o->fd);
  if (o->file != NULL)
    fclose (o->file);
  g_clear_pointer (&o->bytes, g_bytes_unref);
}

#define CHECK_EXACT(o, where)                                                    \
  do {                                                                          \
    gint64 at_ = caller_position (o);                                           \
    ck_assert_msg (at_ < 0 || at_ == (gint64) (where), "%s: caller at %" G_GINT64_FORMAT \
                   ", expected %" G_GSIZE_FORMAT, source_names[(o)->source], at_,          \
                   (gsize) (where));                                            \
  } while (0)

/* ---- peeking ---------------------------------------------------------------- */

START_TEST (test_peek_then_read)
{
  g_autofree guint8 *data = pattern ();
  Opened o;
  open_source (&o, (Source) _i, data);
  GError *error = NULL;
  const char *name = source_names[_i];

  /* Peek shows the next bytes and consumes nothing. */
  const guint8 *p = lf_stream_peek (o.stream, 10, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_msg (memcmp (p, data, 10) == 0, "%s", name);
  ck_assert_uint_eq (lf_stream_tell (o.stream), 0);
  CHECK_EXACT (&o, 10);
  /* A longer peek grows the window; the caller's handle goes exactly that far. */
  p = lf_stream_peek (o.stream, LF_STREAM_PEEK_MAX, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (p, data, LF_STREAM_PEEK_MAX) == 0);
  CHECK_EXACT (&o, LF_STREAM_PEEK_MAX);
  /* A shorter one shows the same bytes again. */
  p = lf_stream_peek (o.stream, 3, &error);
  ck_assert (p != NULL && memcmp (p, data, 3) == 0);
  ck_assert (lf_stream_peek (o.stream, 0, &error) != NULL);

  /* Reads hand out what was peeked first, then go on. */
  guint8 buf[100];
  ck_assert (lf_stream_read (o.stream, buf, 7, &error));
  ck_assert (memcmp (buf, data, 7) == 0);
  ck_assert_uint_eq (lf_stream_tell (o.stream), 7);
  g_autoptr (GBytes) middle = lf_stream_read_bytes (o.stream, 1000, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (middle, NULL), data + 7, 1000) == 0);
  ck_assert (lf_stream_skip (o.stream, LF_STREAM_PEEK_MAX, &error));
  LF_ASSERT_NO_ERROR (error);
  gsize at = 7 + 1000 + LF_STREAM_PEEK_MAX;
  CHECK_EXACT (&o, MAX (at, LF_STREAM_PEEK_MAX));
  /* Peeking across the end of the earlier window. */
  p = lf_stream_peek (o.stream, 30000, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (p, data + at, 30000) == 0);
  CHECK_EXACT (&o, at + 30000);
  ck_assert_uint_eq (lf_stream_tell (o.stream), at);
  /* A big read after a peek: the window first, then the source (paths use
   * a buffer of their own from 1 MiB: here the plain path). */
  g_autoptr (GBytes) rest = lf_stream_read_bytes (o.stream, SIZE - at, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (rest, NULL), data + at, SIZE - at) == 0);
  gboolean at_end = FALSE;
  ck_assert (lf_stream_at_end (o.stream, &at_end, &error));
  ck_assert_msg (at_end, "%s", name);
  CHECK_EXACT (&o, SIZE);
  close_source (&o);
}
END_TEST

START_TEST (test_peek_past_the_end)
{
  g_autofree guint8 *data = pattern ();
  Opened o;
  open_source (&o, (Source) _i, data);
  GError *error = NULL;
  ck_assert (lf_stream_skip (o.stream, SIZE - 20, &error));
  /* Asking for more than is left fails, names what was there, and keeps it. */
  ck_assert_ptr_null (lf_stream_peek (o.stream, 30, &error));
  g_autofree char *want = g_strdup_printf ("expected 30 bytes at offset %" G_GSIZE_FORMAT
                                           ", found 20", SIZE - 20);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, want);
  ck_assert_uint_eq (lf_stream_tell (o.stream), SIZE - 20);
  const guint8 *p = lf_stream_peek (o.stream, 20, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (p, data + SIZE - 20, 20) == 0);
  guint8 buf[20];
  ck_assert (lf_stream_read (o.stream, buf, 20, &error));
  ck_assert (memcmp (buf, data + SIZE - 20, 20) == 0);
  ck_assert_ptr_null (lf_stream_peek (o.stream, 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "found 0");
  ck_assert_ptr_nonnull (lf_stream_peek (o.stream, 0, &error));
  gboolean at_end = FALSE;
  ck_assert (lf_stream_at_end (o.stream, &at_end, &error) && at_end);
  /* More than LF_STREAM_PEEK_MAX is refused outright. */
  ck_assert_ptr_null (lf_stream_peek (o.stream, LF_STREAM_PEEK_MAX + 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "at most 262144");
  close_source (&o);
}
END_TEST

START_TEST (test_at_end_then_peek)
{
  /* at_end looks one byte ahead (the caller's streams) or fills the
   * read-ahead; a peek after it still starts at the same byte. */
  g_autofree guint8 *data = pattern ();
  Opened o;
  open_source (&o, (Source) _i, data);
  GError *error = NULL;
  gboolean at_end = TRUE;
  ck_assert (lf_stream_at_end (o.stream, &at_end, &error));
  ck_assert (!at_end);
  CHECK_EXACT (&o, 1);
  const guint8 *p = lf_stream_peek (o.stream, 100, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (p, data, 100) == 0);
  CHECK_EXACT (&o, 100);
  guint64 remaining = 0;
  gboolean known = lf_stream_get_remaining (o.stream, &remaining);
  ck_assert_int_eq (known, o.source <= SOURCE_PATH);
  if (known)
    ck_assert_uint_eq (remaining, SIZE);
  ck_assert (lf_stream_skip (o.stream, 100, &error));
  CHECK_EXACT (&o, 100);
  guint8 byte;
  ck_assert (lf_stream_read (o.stream, &byte, 1, &error));
  ck_assert_uint_eq (byte, data[100]);
  CHECK_EXACT (&o, 101);
  close_source (&o);
}
END_TEST

START_TEST (test_mapped_slices_after_peek)
{
  /* A mapped path and GBytes hand out slices of their memory, peeked or not. */
  g_autofree guint8 *data = pattern ();
  for (Source source = SOURCE_BYTES; source <= SOURCE_MAPPED; source++)
    {
      Opened o;
      open_source (&o, source, data);
      GError *error = NULL;
      const guint8 *p = lf_stream_peek (o.stream, 64, &error);
      g_autoptr (GBytes) slice = lf_stream_read_bytes (o.stream, 64, &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_ptr_eq (g_bytes_get_data (slice, NULL), p);
      ck_assert (lf_stream_skip (o.stream, 1000, &error));
      g_autoptr (GBytes) next = lf_stream_read_bytes (o.stream, 10, &error);
      ck_assert_ptr_eq (g_bytes_get_data (next, NULL), p + 1064);
      close_source (&o);
    }
}
END_TEST

/* ---- what each source is not --------------------------------------------------- */

static gboolean
write_nowhere (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  return TRUE;
}

START_TEST (test_one_way_sources)
{
  GError *error = NULL;
  guint8 buf[4];
  /* Readers are not writable. */
  g_autofree guint8 *data = pattern ();
  for (Source source = SOURCE_DATA; source <= SOURCE_PATH; source++)
    {
      Opened o;
      open_source (&o, source, data);
      ck_assert (!lf_stream_write (o.stream, "x", 1, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, "stream is not writable");
      ck_assert (!lf_stream_can_rewrite (o.stream));
      ck_assert_ptr_null (lf_stream_steal_bytes (o.stream));
      ck_assert (lf_stream_flush (o.stream, &error) && lf_stream_sync (o.stream, &error));
      close_source (&o);
    }
  /* The memory writer and write-only callbacks are not readable. */
  LfStream *writers[2] = {
    lf_stream_new_memory (),
    lf_stream_new_for_callbacks (NULL, write_nowhere, NULL, NULL),
  };
  for (gsize i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      ck_assert (lf_stream_write (writers[i], "abcd", 4, &error));
      ck_assert_ptr_null (lf_stream_peek (writers[i], 1, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, "stream is not readable");
      ck_assert_int_eq (lf_stream_read_some (writers[i], buf, 4, &error), -1);
      LF_ASSERT_ERROR (error, LF_ERROR_IO, "stream is not readable");
      gboolean at_end;
      ck_assert (!lf_stream_at_end (writers[i], &at_end, &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, "stream is not readable");
      ck_assert (!lf_stream_get_remaining (writers[i], NULL));
      ck_assert_uint_eq (lf_stream_tell (writers[i]), 4);
      lf_stream_free (writers[i]);
    }
}
END_TEST

START_TEST (test_read_write_fd_peek)
{
  /* An fd that is written and read: the buffered bytes go out before a
   * peek reads past them, and a stream that has peeked cannot rewrite
   * (its position no longer matches the fd's). */
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("rw.bin");
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, "0123456789", 10), 10);
  ck_assert_int_eq (lseek (fd, 0, SEEK_SET), 0);
  LfStream *s = lf_stream_new_for_fd (fd, TRUE);
  ck_assert (lf_stream_write (s, "ab", 2, &error));
  const guint8 *p = lf_stream_peek (s, 4, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (p != NULL && memcmp (p, "2345", 4) == 0);
  ck_assert (!lf_stream_can_rewrite (s));
  guint8 buf[4];
  ck_assert (lf_stream_read (s, buf, 4, &error));
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), 6);
  ck_assert_uint_eq (lf_stream_tell (s), 6);
  lf_stream_free (s);
  g_autoptr (GBytes) file = lf_test_read_file (path);
  ck_assert (memcmp (g_bytes_get_data (file, NULL), "ab23456789", 10) == 0);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("stream-sources");
  TCase *tc = tcase_create ("sources");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_peek_then_read, 0, N_SOURCES);
  tcase_add_loop_test (tc, test_peek_past_the_end, 0, N_SOURCES);
  tcase_add_loop_test (tc, test_at_end_then_peek, 0, N_SOURCES);
  tcase_add_test (tc, test_mapped_slices_after_peek);
  tcase_add_test (tc, test_one_way_sources);
  tcase_add_test (tc, test_read_write_fd_peek);
  suite_add_tcase (suite, tc);
  return suite;
}
