/* Streams: every constructor, buffered and exact reads, writes, errors. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test-common.h"

/* A deterministic byte pattern. */
static guint8 *
make_pattern (gsize size)
{
  guint8 *data = g_malloc (size);
  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7 + i / 251);
  return data;
}

/* ---- memory ---------------------------------------------------------------- */

START_TEST (test_memory_writer)
{
  GError *error = NULL;
  g_autoptr (LfStream) s = lf_stream_new_memory ();
  ck_assert_str_eq (lf_stream_get_name (s), "memory");
  ck_assert (lf_stream_write (s, "hello ", 6, &error));
  ck_assert (lf_stream_write (s, "world", 5, &error));
  ck_assert (lf_stream_write (s, NULL, 0, &error));
  ck_assert_uint_eq (lf_stream_tell (s), 11);
  ck_assert (lf_stream_flush (s, &error));
  ck_assert (lf_stream_sync (s, &error));
  g_autoptr (GBytes) b = lf_stream_steal_bytes (s);
  ck_assert_uint_eq (g_bytes_get_size (b), 11);
  ck_assert (memcmp (g_bytes_get_data (b, NULL), "hello world", 11) == 0);
  g_autoptr (GBytes) empty = lf_stream_steal_bytes (s);
  ck_assert_uint_eq (g_bytes_get_size (empty), 0);
  ck_assert_uint_eq (lf_stream_tell (s), 11);

  /* A writer cannot be read. */
  char c;
  ck_assert_int_eq (lf_stream_read_some (s, &c, 1, &error), -1);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "memory: stream is not readable");
  ck_assert (!lf_stream_get_remaining (s, NULL));
}
END_TEST

START_TEST (test_data_reads)
{
  GError *error = NULL;
  const char text[] = "0123456789";
  g_autoptr (LfStream) s = lf_stream_new_for_data (text, 10);
  guint64 left;
  ck_assert (lf_stream_get_remaining (s, &left));
  ck_assert_uint_eq (left, 10);
  char buf[16];
  ck_assert (lf_stream_read (s, buf, 3, &error));
  ck_assert (memcmp (buf, "012", 3) == 0);
  ck_assert_int_eq (lf_stream_read_some (s, buf, 2, &error), 2);
  ck_assert (memcmp (buf, "34", 2) == 0);
  ck_assert (lf_stream_skip (s, 1, &error));
  ck_assert_uint_eq (lf_stream_tell (s), 6);
  g_autoptr (GBytes) b = lf_stream_read_bytes (s, 2, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (b, NULL), "67", 2) == 0);
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (!at_end);

  /* Too much: TRUNCATED, and nothing is consumed by read_bytes/skip. */
  ck_assert (lf_stream_read_bytes (s, G_MAXSIZE, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "found 2");
  ck_assert (!lf_stream_skip (s, 3, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "memory: expected 3 bytes at offset 8");
  ck_assert (!lf_stream_read (s, buf, 5, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "memory: expected 5 bytes at offset 8, found 2");
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (at_end);
  ck_assert_int_eq (lf_stream_read_some (s, buf, 4, &error), 0);
  ck_assert (lf_stream_read (s, buf, 0, &error));

  /* Read-only. */
  ck_assert (!lf_stream_write (s, "x", 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "memory: stream is not writable");
  ck_assert (lf_stream_steal_bytes (s) == NULL);
  lf_stream_set_name (s, "blob");
  ck_assert_str_eq (lf_stream_get_name (s), "blob");
}
END_TEST

START_TEST (test_bytes_slices)
{
  GError *error = NULL;
  g_autofree guint8 *pattern = make_pattern (1000);
  g_autoptr (GBytes) bytes = g_bytes_new (pattern, 1000);
  const guint8 *base = g_bytes_get_data (bytes, NULL);
  g_autoptr (LfStream) s = lf_stream_new_for_bytes (bytes);
  ck_assert (lf_stream_skip (s, 100, &error));
  g_autoptr (GBytes) a = lf_stream_read_bytes (s, 300, &error);
  g_autoptr (GBytes) b = lf_stream_read_bytes (s, 600, &error);
  LF_ASSERT_NO_ERROR (error);
  /* Slices of the same memory: no copy. */
  ck_assert_ptr_eq (g_bytes_get_data (a, NULL), base + 100);
  ck_assert_ptr_eq (g_bytes_get_data (b, NULL), base + 400);
  ck_assert_uint_eq (g_bytes_get_size (b), 600);
  g_autoptr (GBytes) none = lf_stream_read_bytes (s, 0, &error);
  ck_assert (none != NULL);
  ck_assert (lf_stream_read_bytes (s, 1, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected 1 bytes at offset 1000, found 0");
}
END_TEST

/* ---- paths ----------------------------------------------------------------- */

static char *
write_pattern_file (const char *name, gsize size)
{
  char *path = lf_test_path (name);
  g_autofree guint8 *data = make_pattern (size);
  lf_test_write_file (path, data, size);
  return path;
}

START_TEST (test_path_read_ahead)
{
  GError *error = NULL;
  const gsize size = 700 * 1024 + 13;
  g_autofree char *path = write_pattern_file ("big.bin", size);
  g_autofree guint8 *expect = make_pattern (size);
  g_autoptr (LfStream) s = lf_stream_new_for_path (path, FALSE, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_str_eq (lf_stream_get_name (s), path);
  g_autofree guint8 *got = g_malloc (size);
  /* Small reads, a large one that bypasses the buffer, read_bytes, skip. */
  gsize at = 0;
  guint64 left;
  for (int i = 0; i < 100; i++)
    {
      ck_assert (lf_stream_read (s, got + at, 10, &error));
      at += 10;
    }
  ck_assert (lf_stream_get_remaining (s, &left));
  ck_assert_uint_eq (left, size - at);
  ck_assert (lf_stream_read (s, got + at, 300 * 1024, &error));
  at += 300 * 1024;
  g_autoptr (GBytes) mid = lf_stream_read_bytes (s, 5000, &error);
  LF_ASSERT_NO_ERROR (error);
  memcpy (got + at, g_bytes_get_data (mid, NULL), 5000);
  at += 5000;
  ck_assert (lf_stream_skip (s, 7, &error));
  memcpy (got + at, expect + at, 7);
  at += 7;
  ck_assert (lf_stream_get_remaining (s, &left));
  ck_assert_uint_eq (left, size - at);
  ck_assert (lf_stream_read (s, got + at, size - at, &error));
  ck_assert (memcmp (got, expect, size) == 0);
  ck_assert_uint_eq (lf_stream_tell (s), size);
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (at_end);
  ck_assert (lf_stream_read_bytes (s, 1, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, path);
  /* Writing to a stream opened for reading fails. */
  ck_assert (!lf_stream_write (s, "x", 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "not writable");
}
END_TEST

START_TEST (test_path_map)
{
  GError *error = NULL;
  g_autofree char *path = write_pattern_file ("mapped.bin", 5000);
  g_autofree guint8 *expect = make_pattern (5000);
  g_autoptr (LfStream) s = lf_stream_new_for_path (path, TRUE, &error);
  LF_ASSERT_NO_ERROR (error);
  char head[10];
  ck_assert (lf_stream_read (s, head, 10, &error));
  g_autoptr (GBytes) a = lf_stream_read_bytes (s, 90, &error);
  g_autoptr (GBytes) b = lf_stream_read_bytes (s, 4900, &error);
  LF_ASSERT_NO_ERROR (error);
  const guint8 *pa = g_bytes_get_data (a, NULL), *pb = g_bytes_get_data (b, NULL);
  ck_assert_ptr_eq (pa + 90, pb);  /* slices of one mapping */
  ck_assert (memcmp (pb, expect + 100, 4900) == 0);
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (at_end);

  /* Empty files map too. */
  g_autofree char *empty = lf_test_path ("empty.bin");
  lf_test_write_file (empty, "", 0);
  g_autoptr (LfStream) e = lf_stream_new_for_path (empty, TRUE, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_stream_at_end (e, &at_end, &error));
  ck_assert (at_end);
}
END_TEST

START_TEST (test_path_errors)
{
  GError *error = NULL;
  g_autofree char *missing = lf_test_path ("no-such-file");
  ck_assert (lf_stream_new_for_path (missing, FALSE, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, missing);
  ck_assert (lf_stream_new_for_path (missing, TRUE, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "No such file");
  ck_assert (lf_stream_new_for_path (lf_test_tmpdir (), FALSE, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, lf_test_tmpdir ());
}
END_TEST

/* ---- fd, pipes ------------------------------------------------------------- */

typedef struct {
  int fd;
  const guint8 *data;
  gsize size, piece;
} PipeWriter;

static gpointer
pipe_writer (gpointer user_data)
{
  PipeWriter *w = user_data;
  for (gsize at = 0; at < w->size; at += w->piece)
    {
      gsize n = MIN (w->piece, w->size - at);
      if (write (w->fd, w->data + at, n) != (gssize) n)
        break;
      g_usleep (10);
    }
  close (w->fd);
  return NULL;
}

START_TEST (test_pipe_reads)
{
  GError *error = NULL;
  const gsize size = 200 * 1000;
  g_autofree guint8 *data = make_pattern (size);
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  PipeWriter w = { fds[1], data, size, 4093 };
  GThread *thread = g_thread_new ("writer", pipe_writer, &w);
  g_autoptr (LfStream) s = lf_stream_new_for_fd (fds[0], TRUE);
  g_autofree char *name = g_strdup_printf ("fd %d", fds[0]);
  ck_assert_str_eq (lf_stream_get_name (s), name);
  ck_assert (!lf_stream_get_remaining (s, NULL));
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (!at_end);
  g_autoptr (GBytes) head = lf_stream_read_bytes (s, 1000, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (head, NULL), data, 1000) == 0);
  guint8 buf[5000];
  ck_assert (lf_stream_read (s, buf, 5000, &error));
  ck_assert (memcmp (buf, data + 1000, 5000) == 0);
  ck_assert (lf_stream_skip (s, 4000, &error));
  /* A lying size: a bounded allocation, then TRUNCATED. */
  ck_assert (lf_stream_read_bytes (s, (gsize) 1 << 40, &error) == NULL);
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "found 190000");
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (at_end);
  g_thread_join (thread);
}
END_TEST

START_TEST (test_pipe_read_bytes_exact)
{
  GError *error = NULL;
  const gsize size = 100 * 1000;
  g_autofree guint8 *data = make_pattern (size);
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  PipeWriter w = { fds[1], data, size, 65536 };
  GThread *thread = g_thread_new ("writer", pipe_writer, &w);
  g_autoptr (LfStream) s = lf_stream_new_for_fd (fds[0], TRUE);
  g_autoptr (GBytes) all = lf_stream_read_bytes (s, size, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (all, NULL), data, size) == 0);
  g_thread_join (thread);
}
END_TEST

START_TEST (test_fd_exact_consumption)
{
  GError *error = NULL;
  g_autofree char *path = write_pattern_file ("fd.bin", 1000);
  int fd = open (path, O_RDONLY);
  ck_assert_int_ge (fd, 0);
  LfStream *s = lf_stream_new_for_fd (fd, FALSE);
  char name[32];
  g_snprintf (name, sizeof name, "fd %d", fd);
  ck_assert_str_eq (lf_stream_get_name (s), name);
  guint8 buf[100];
  ck_assert (lf_stream_read (s, buf, 3, &error));
  g_autoptr (GBytes) b = lf_stream_read_bytes (s, 40, &error);
  ck_assert_uint_eq (g_bytes_get_size (b), 40);
  ck_assert (lf_stream_skip (s, 7, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), 50);
  /* at_end peeks one byte and hands it out next. */
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (!at_end);
  ck_assert (lf_stream_read (s, buf, 10, &error));
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), 60);
  g_autofree guint8 *expect = make_pattern (1000);
  ck_assert (memcmp (buf, expect + 50, 10) == 0);
  lf_stream_free (s);
  /* Not closed. */
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), 60);
  close (fd);
}
END_TEST

START_TEST (test_fd_write_and_read_back)
{
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("written.bin");
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge (fd, 0);
  const gsize size = 300 * 1000;
  g_autofree guint8 *data = make_pattern (size);
  LfStream *s = lf_stream_new_for_fd (fd, TRUE);
  /* Small writes buffer, a large one goes straight through. */
  ck_assert (lf_stream_write (s, data, 10, &error));
  ck_assert (lf_stream_write (s, data + 10, 100 * 1000 - 10, &error));
  for (gsize at = 100 * 1000; at < size; at += 1000)
    ck_assert (lf_stream_write (s, data + at, 1000, &error));
  ck_assert_uint_eq (lf_stream_tell (s), size);
  ck_assert (lf_stream_sync (s, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_stream_write (s, "tail", 4, &error));
  /* Reading flushes pending writes first (the file offset is at the end). */
  char c;
  ck_assert_int_eq (lf_stream_read_some (s, &c, 1, &error), 0);
  lf_stream_free (s);  /* closes fd */
  g_autoptr (GBytes) back = lf_test_read_file (path);
  ck_assert_uint_eq (g_bytes_get_size (back), size + 4);
  ck_assert (memcmp (g_bytes_get_data (back, NULL), data, size) == 0);

  /* Free flushes what is left. */
  fd = open (path, O_WRONLY | O_TRUNC);
  s = lf_stream_new_for_fd (fd, TRUE);
  ck_assert (lf_stream_write (s, "abc", 3, &error));
  lf_stream_free (s);
  g_autoptr (GBytes) small = lf_test_read_file (path);
  ck_assert_uint_eq (g_bytes_get_size (small), 3);
}
END_TEST

START_TEST (test_dev_full)
{
  GError *error = NULL;
  int fd = open ("/dev/full", O_WRONLY);
  ck_assert_int_ge (fd, 0);
  char name[32];
  g_snprintf (name, sizeof name, "fd %d: write failed", fd);
  g_autoptr (LfStream) s = lf_stream_new_for_fd (fd, TRUE);
  ck_assert (lf_stream_write (s, "abc", 3, &error));  /* buffered */
  ck_assert (!lf_stream_flush (s, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, name);
  ck_assert (lf_stream_write (s, "abc", 3, &error));
  ck_assert (!lf_stream_sync (s, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (ENOSPC));
  /* A big write goes through at once and fails at once. */
  g_autofree guint8 *big = make_pattern (100 * 1000);
  ck_assert (!lf_stream_write (s, big, 100 * 1000, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (ENOSPC));
  /* Filling the buffer past its size flushes and fails. */
  for (int i = 0; i < 100 && error == NULL; i++)
    lf_stream_write (s, big, 1000, &error);
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "write failed");

  FILE *file = fopen ("/dev/full", "w");
  ck_assert (file != NULL);
  g_autoptr (LfStream) f = lf_stream_new_for_file (file);
  lf_stream_set_name (f, "full.eqx");
  ck_assert (lf_stream_write (f, "abc", 3, &error));
  ck_assert (!lf_stream_flush (f, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "full.eqx: write failed: No space left");
  lf_stream_free (g_steal_pointer (&f));
  fclose (file);
}
END_TEST

START_TEST (test_sync_on_pipe)
{
  GError *error = NULL;
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  g_autoptr (LfStream) s = lf_stream_new_for_fd (fds[1], TRUE);
  ck_assert (lf_stream_write (s, "x", 1, &error));
  ck_assert (lf_stream_sync (s, &error));
  LF_ASSERT_NO_ERROR (error);
  char c;
  ck_assert_int_eq (read (fds[0], &c, 1), 1);
  close (fds[0]);
}
END_TEST

START_TEST (test_fd_read_error)
{
  GError *error = NULL;
  int fd = open ("/dev/null", O_WRONLY);
  g_autoptr (LfStream) s = lf_stream_new_for_fd (fd, TRUE);
  char buf[4];
  ck_assert (!lf_stream_read (s, buf, 4, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "read failed");
  gboolean at_end;
  ck_assert (!lf_stream_at_end (s, &at_end, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (EBADF));
}
END_TEST

typedef struct {
  const char *path;
  const guint8 *data;
  gsize size;
} FifoWriter;

static gpointer
fifo_writer (gpointer user_data)
{
  FifoWriter *w = user_data;
  int fd = open (w->path, O_WRONLY);
  if (fd >= 0)
    {
      if (write (fd, w->data, w->size) != (gssize) w->size)
        g_printerr ("short write to the fifo\n");
      close (fd);
    }
  return NULL;
}

START_TEST (test_path_fifo)
{
  /* A named pipe opened by path (even asking for a mapping) is read like a
   * pipe: no size known, read-ahead still fine. */
  GError *error = NULL;
  g_autofree char *path = lf_test_path ("fifo");
  ck_assert_int_eq (mkfifo (path, 0600), 0);
  const gsize size = 300 * 1000;
  g_autofree guint8 *data = make_pattern (size);
  FifoWriter w = { path, data, size };
  GThread *thread = g_thread_new ("fifo", fifo_writer, &w);
  g_autoptr (LfStream) s = lf_stream_new_for_path (path, TRUE, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (!lf_stream_get_remaining (s, NULL));
  g_autoptr (GBytes) all = lf_stream_read_bytes (s, size, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (all, NULL), data, size) == 0);
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (at_end);
  g_thread_join (thread);
}
END_TEST

/* ---- FILE ------------------------------------------------------------------ */

START_TEST (test_file_stream)
{
  GError *error = NULL;
  g_autofree char *path = write_pattern_file ("file.bin", 1000);
  FILE *file = fopen (path, "r+b");
  ck_assert (file != NULL);
  LfStream *s = lf_stream_new_for_file (file);
  ck_assert_str_eq (lf_stream_get_name (s), "FILE");
  guint8 buf[64];
  ck_assert (lf_stream_read (s, buf, 5, &error));
  g_autoptr (GBytes) b = lf_stream_read_bytes (s, 20, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_eq (g_bytes_get_size (b), 20);
  ck_assert_int_eq (ftell (file), 25);
  ck_assert (!lf_stream_get_remaining (s, NULL));
  lf_stream_free (s);
  ck_assert_int_eq (ftell (file), 25);
  ck_assert (fseek (file, 0, SEEK_END) == 0);

  s = lf_stream_new_for_file (file);
  ck_assert (lf_stream_write (s, "END", 3, &error));
  ck_assert (lf_stream_sync (s, &error));
  lf_stream_free (s);
  fclose (file);
  g_autoptr (GBytes) back = lf_test_read_file (path);
  ck_assert_uint_eq (g_bytes_get_size (back), 1003);
  ck_assert (memcmp ((const char *) g_bytes_get_data (back, NULL) + 1000, "END", 3) == 0);

  /* Reading from a write-only FILE reports the error. */
  file = fopen (path, "ab");
  s = lf_stream_new_for_file (file);
  ck_assert (!lf_stream_read (s, buf, 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "FILE: read failed");
  lf_stream_free (s);
  fclose (file);
}
END_TEST

/* ---- callbacks ------------------------------------------------------------- */

typedef struct {
  const guint8 *data;
  gsize size, at;
  gboolean fail;
  GString *written;
  int destroyed;
} CallbackState;

static gssize
cb_read (gpointer user_data, void *buffer, gsize count, GError **error)
{
  CallbackState *st = user_data;
  if (st->fail)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "socket reset");
      return -1;
    }
  gsize n = MIN (MIN (count, 3), st->size - st->at);  /* dribbles */
  memcpy (buffer, st->data + st->at, n);
  st->at += n;
  return (gssize) n;
}

static gboolean
cb_write (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  CallbackState *st = user_data;
  if (st->fail)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "disk on fire");
      return FALSE;
    }
  g_string_append_len (st->written, buffer, (gssize) count);
  return TRUE;
}

static gboolean
cb_write_silent_fail (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  return FALSE;
}

static gssize
cb_read_silent_fail (gpointer user_data, void *buffer, gsize count, GError **error)
{
  return -1;
}

static void
cb_destroy (gpointer user_data)
{
  CallbackState *st = user_data;
  st->destroyed++;
}

START_TEST (test_callbacks)
{
  GError *error = NULL;
  g_autofree guint8 *data = make_pattern (100);
  CallbackState st = { data, 100, 0, FALSE, g_string_new (NULL), 0 };
  LfStream *s = lf_stream_new_for_callbacks (cb_read, cb_write, &st, cb_destroy);
  ck_assert_str_eq (lf_stream_get_name (s), "callbacks");
  guint8 buf[100];
  ck_assert (lf_stream_read (s, buf, 10, &error));
  ck_assert_uint_eq (st.at, 10);  /* exactly what was asked */
  ck_assert (memcmp (buf, data, 10) == 0);
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (!at_end);
  ck_assert_uint_eq (st.at, 11);
  g_autoptr (GBytes) rest = lf_stream_read_bytes (s, 90, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (rest, NULL), data + 10, 90) == 0);
  ck_assert (lf_stream_at_end (s, &at_end, &error));
  ck_assert (at_end);

  ck_assert (lf_stream_write (s, "abc", 3, &error));
  ck_assert_uint_eq (st.written->len, 0);  /* buffered */
  ck_assert (lf_stream_flush (s, &error));
  ck_assert_str_eq (st.written->str, "abc");

  st.fail = TRUE;
  ck_assert (!lf_stream_read (s, buf, 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "callbacks: socket reset");
  ck_assert (lf_stream_write (s, "d", 1, &error));
  ck_assert (!lf_stream_flush (s, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "callbacks: disk on fire");
  lf_stream_free (s);
  ck_assert_int_eq (st.destroyed, 1);
  g_string_free (st.written, TRUE);

  /* Callbacks that fail without saying why still give an error. */
  s = lf_stream_new_for_callbacks (cb_read_silent_fail, cb_write_silent_fail, NULL, NULL);
  ck_assert (!lf_stream_read (s, buf, 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "callbacks: read failed");
  ck_assert (lf_stream_write (s, "x", 1, &error));
  ck_assert (!lf_stream_flush (s, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "callbacks: write failed");
  lf_stream_free (s);

  /* One-way streams. */
  s = lf_stream_new_for_callbacks (cb_read, NULL, &st, NULL);
  ck_assert (!lf_stream_write (s, "x", 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "callbacks: stream is not writable");
  lf_stream_free (s);
  s = lf_stream_new_for_callbacks (NULL, cb_write, &st, NULL);
  ck_assert (!lf_stream_read (s, buf, 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "callbacks: stream is not readable");
  lf_stream_free (s);
}
END_TEST

/* ---- peeking ---------------------------------------------------------------- */

/* Peeks at `s` (positioned at byte 0 of `expect`) the way a codec's
 * describe does, growing, then reads: the position never moves while
 * peeking, and the reads see the peeked bytes again. */
static void
assert_peeks_then_reads (LfStream *s, const guint8 *expect, gsize size)
{
  GError *error = NULL;
  static const gsize counts[] = { 0, 10, 3, 40, 40, 8000 };
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      const guint8 *p = lf_stream_peek (s, counts[i], &error);
      LF_ASSERT_NO_ERROR (error);
      ck_assert_ptr_nonnull (p);
      ck_assert (memcmp (p, expect, counts[i]) == 0);
      ck_assert_uint_eq (lf_stream_tell (s), 0);
    }
  guint8 buf[50];
  ck_assert (lf_stream_read (s, buf, 25, &error));
  ck_assert (memcmp (buf, expect, 25) == 0);
  const guint8 *p = lf_stream_peek (s, 50, &error);
  ck_assert (p != NULL && memcmp (p, expect + 25, 50) == 0);
  ck_assert_uint_eq (lf_stream_tell (s), 25);
  g_autoptr (GBytes) rest = lf_stream_read_bytes (s, 8000 - 25, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (rest, NULL), expect + 25, 8000 - 25) == 0);
  ck_assert_uint_eq (lf_stream_tell (s), 8000);

  /* Past the end: TRUNCATED, and what is there is still read. */
  ck_assert_ptr_null (lf_stream_peek (s, size - 8000 + 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "expected");
  ck_assert_uint_eq (lf_stream_tell (s), 8000);
  ck_assert_ptr_null (lf_stream_peek (s, LF_STREAM_PEEK_MAX + 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "at most 262144");
  g_autoptr (GBytes) tail = lf_stream_read_bytes (s, size - 8000, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (g_bytes_get_data (tail, NULL), expect + 8000, size - 8000) == 0);
  gboolean at_end;
  ck_assert (lf_stream_at_end (s, &at_end, &error) && at_end);
}

START_TEST (test_peek_memory_and_path)
{
  GError *error = NULL;
  const gsize size = 9000;
  g_autofree guint8 *data = make_pattern (size);
  g_autoptr (LfStream) memory = lf_stream_new_for_data (data, size);
  assert_peeks_then_reads (memory, data, size);

  g_autofree char *path = write_pattern_file ("peek.bin", size);
  for (int map = 0; map <= 1; map++)
    {
      g_autoptr (LfStream) s = lf_stream_new_for_path (path, map, &error);
      LF_ASSERT_NO_ERROR (error);
      assert_peeks_then_reads (s, data, size);
    }

  /* The whole window at once, from a path's read-ahead. */
  const gsize big = 3 * LF_STREAM_PEEK_MAX;
  g_autofree guint8 *big_data = make_pattern (big);
  g_autofree char *big_path = write_pattern_file ("peek-big.bin", big);
  g_autoptr (LfStream) s = lf_stream_new_for_path (big_path, FALSE, &error);
  guint8 buf[100];
  ck_assert (lf_stream_read (s, buf, 100, &error));
  const guint8 *p = lf_stream_peek (s, LF_STREAM_PEEK_MAX, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (memcmp (p, big_data + 100, LF_STREAM_PEEK_MAX) == 0);

  /* A writer shows nothing. */
  g_autoptr (LfStream) writer = lf_stream_new_memory ();
  ck_assert_ptr_null (lf_stream_peek (writer, 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "not readable");
}
END_TEST

/* A caller's fd: peeking reads exactly the bytes shown, so after the
 * stream is gone the fd is right after the last byte shown, and the
 * caller's own data after what the stream handed out is still there. */
START_TEST (test_peek_fd_consumes_only_what_was_shown)
{
  GError *error = NULL;
  const gsize size = 9000;
  g_autofree guint8 *data = make_pattern (size);
  g_autofree char *path = write_pattern_file ("peek-fd.bin", size);
  int fd = open (path, O_RDONLY);
  ck_assert_int_ge (fd, 0);
  LfStream *s = lf_stream_new_for_fd (fd, FALSE);
  ck_assert_ptr_nonnull (lf_stream_peek (s, 30, &error));
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), 30);
  ck_assert_ptr_nonnull (lf_stream_peek (s, 12, &error));
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), 30);
  guint8 buf[100];
  ck_assert (lf_stream_read (s, buf, 20, &error));
  ck_assert_int_eq (lseek (fd, 0, SEEK_CUR), 30);
  ck_assert (lf_stream_read (s, buf, 10, &error));
  ck_assert (memcmp (buf, data + 20, 10) == 0);
  LF_ASSERT_NO_ERROR (error);
  lf_stream_free (s);
  /* The caller reads on from byte 30, not from wherever a buffer stopped. */
  ck_assert_int_eq (read (fd, buf, 5), 5);
  ck_assert (memcmp (buf, data + 30, 5) == 0);

  ck_assert_int_eq (lseek (fd, 0, SEEK_SET), 0);
  s = lf_stream_new_for_fd (fd, FALSE);
  assert_peeks_then_reads (s, data, size);
  lf_stream_free (s);
  close (fd);
}
END_TEST

START_TEST (test_peek_pipe)
{
  const gsize size = 9000;
  g_autofree guint8 *data = make_pattern (size);
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  PipeWriter w = { fds[1], data, size, 1000 };
  GThread *thread = g_thread_new ("writer", pipe_writer, &w);
  g_autoptr (LfStream) s = lf_stream_new_for_fd (fds[0], TRUE);
  assert_peeks_then_reads (s, data, size);
  g_thread_join (thread);
}
END_TEST

START_TEST (test_peek_file_and_callbacks)
{
  GError *error = NULL;
  const gsize size = 9000;
  g_autofree guint8 *data = make_pattern (size);
  g_autofree char *path = write_pattern_file ("peek-file.bin", size);
  FILE *file = fopen (path, "rb");
  ck_assert (file != NULL);
  LfStream *s = lf_stream_new_for_file (file);
  ck_assert_ptr_nonnull (lf_stream_peek (s, 64, &error));
  ck_assert_int_eq (ftell (file), 64);
  lf_stream_free (s);
  ck_assert (fseek (file, 0, SEEK_SET) == 0);
  s = lf_stream_new_for_file (file);
  assert_peeks_then_reads (s, data, size);
  lf_stream_free (s);
  fclose (file);

  CallbackState st = { data, size, 0, FALSE, NULL, 0 };
  s = lf_stream_new_for_callbacks (cb_read, NULL, &st, NULL);
  ck_assert_ptr_nonnull (lf_stream_peek (s, 100, &error));
  ck_assert_uint_eq (st.at, 100);   /* dribbled in 3-byte reads, none past 100 */
  ck_assert_ptr_nonnull (lf_stream_peek (s, 7, &error));
  ck_assert_uint_eq (st.at, 100);
  lf_stream_free (s);
  st.at = 0;
  s = lf_stream_new_for_callbacks (cb_read, NULL, &st, NULL);
  assert_peeks_then_reads (s, data, size);
  lf_stream_free (s);

  /* A read error while peeking is the callback's error. */
  st.at = 0;
  st.fail = TRUE;
  s = lf_stream_new_for_callbacks (cb_read, NULL, &st, NULL);
  ck_assert_ptr_null (lf_stream_peek (s, 10, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "socket reset");
  lf_stream_free (s);
}
END_TEST

/* ---- rewriting ------------------------------------------------------------ */

static void
assert_file_holds (const char *path, const guint8 *want, gsize size)
{
  g_autoptr (GBytes) back = lf_test_read_file (path);
  ck_assert_uint_eq (g_bytes_get_size (back), size);
  ck_assert (memcmp (g_bytes_get_data (back, NULL), want, size) == 0);
}

START_TEST (test_rewrite)
{
  GError *error = NULL;
  const gsize size = 200 * 1000;
  g_autofree guint8 *data = make_pattern (size);
  g_autofree guint8 *want = g_memdup2 (data, size);

  /* Memory writer: patched in place. */
  LfStream *s = lf_stream_new_memory ();
  ck_assert (lf_stream_can_rewrite (s));
  ck_assert (lf_stream_write (s, data, 1000, &error));
  ck_assert (lf_stream_rewrite (s, 10, "XYZ", 3, &error));
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (s);
  ck_assert (memcmp (g_bytes_get_data (bytes, NULL), data, 10) == 0);
  ck_assert (memcmp ((const guint8 *) g_bytes_get_data (bytes, NULL) + 10, "XYZ", 3) == 0);
  /* What was stolen cannot be patched any more. */
  ck_assert (lf_stream_write (s, data, 5, &error));
  ck_assert (!lf_stream_rewrite (s, 0, "A", 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "lf_stream_steal_bytes");
  ck_assert (lf_stream_rewrite (s, 1000, "A", 1, &error));
  lf_stream_free (s);

  /* A regular file whose fd did not start at offset 0: a range that lies
   * partly in the file and partly in the write buffer. */
  g_autofree char *path = lf_test_path ("rewrite.bin");
  int fd = open (path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (write (fd, "prefix", 6), 6);
  s = lf_stream_new_for_fd (fd, TRUE);
  ck_assert (lf_stream_write (s, data, size - 100, &error));   /* to the file */
  ck_assert (lf_stream_write (s, data + size - 100, 100, &error));   /* buffered */
  ck_assert (lf_stream_can_rewrite (s));
  memset (want + size - 150, 0xAB, 100);
  ck_assert (lf_stream_rewrite (s, size - 150, want + size - 150, 100, &error));
  memcpy (want, "head", 4);
  ck_assert (lf_stream_rewrite (s, 0, "head", 4, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_stream_flush (s, &error));
  lf_stream_free (s);
  g_autofree guint8 *whole = g_malloc (size + 6);
  memcpy (whole, "prefix", 6);
  memcpy (whole + 6, want, size);
  assert_file_holds (path, whole, size + 6);

  /* Not rewritable: a pipe, an O_APPEND file, FILE * and callbacks; the
   * stream is left as it was. */
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  s = lf_stream_new_for_fd (fds[1], TRUE);
  ck_assert (lf_stream_write (s, "abc", 3, &error));
  ck_assert (!lf_stream_can_rewrite (s));
  ck_assert (!lf_stream_rewrite (s, 0, "x", 1, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_UNSUPPORTED, "fd ");
  lf_stream_free (s);
  char got[4] = { 0 };
  ck_assert_int_eq (read (fds[0], got, 3), 3);
  ck_assert_str_eq (got, "abc");
  close (fds[0]);

  fd = open (path, O_WRONLY | O_APPEND);
  s = lf_stream_new_for_fd (fd, TRUE);
  ck_assert (!lf_stream_can_rewrite (s));
  lf_stream_free (s);
  FILE *file = fopen (path, "rb+");
  s = lf_stream_new_for_file (file);
  ck_assert (!lf_stream_can_rewrite (s));
  lf_stream_free (s);
  fclose (file);
  s = lf_stream_new_for_callbacks (NULL, cb_write_silent_fail, NULL, NULL);
  ck_assert (!lf_stream_can_rewrite (s));
  lf_stream_free (s);
  assert_file_holds (path, whole, size + 6);

  /* Bytes not written yet are a caller's error. */
  s = lf_stream_new_memory ();
  LF_ASSERT_CRITICAL (ck_assert (!lf_stream_rewrite (s, 0, "x", 1, &error)));
  lf_stream_free (s);
}
END_TEST

/* ---- preallocation ------------------------------------------------------- */

/* Promises 8 MiB with lf_stream_expect, then writes only the npy record
 * of `leaf`. */
static gboolean
over_promise (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
              GError **error)
{
  (void) path;
  (void) user_data;
  lf_stream_expect (out, 8u << 20);
  return lf_npy_write (out, leaf, 0, error);
}

static LfNode *
read_npy (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data, GError **error)
{
  (void) path;
  (void) like;
  (void) user_data;
  return lf_npy_read (in, error);
}

/* Big writes and lf_stream_expect reserve blocks ahead of the data, but a
 * file's contents and size follow the writes alone: a caller's file keeps
 * what lies past the bytes written, and a path save whose codec promised
 * more than it wrote ends exactly after its last record. */
START_TEST (test_preallocation_keeps_sizes)
{
  GError *error = NULL;
  const gsize size = 3u << 20;
  g_autofree guint8 *data = make_pattern (size);
  g_autofree char *path = lf_test_path ("prealloc.bin");
  ck_assert (g_file_set_contents (path, (const char *) data, size, &error));

  int fd = open (path, O_WRONLY);
  ck_assert_int_ge (fd, 0);
  LfStream *s = lf_stream_new_for_fd (fd, TRUE);
  g_autofree guint8 *ones = g_malloc (2u << 20);
  memset (ones, 1, 2u << 20);
  lf_stream_expect (s, 8u << 20);
  ck_assert (lf_stream_write (s, ones, 2u << 20, &error));
  ck_assert (lf_stream_flush (s, &error));
  LF_ASSERT_NO_ERROR (error);
  lf_stream_free (s);
  memset (data, 1, 2u << 20);
  assert_file_holds (path, data, size);

  g_autoptr (LfRegistry) registry = lf_registry_new ();
  ck_assert (lf_registry_register_func (registry, "promiser", "expects more than it writes",
                                        NULL, over_promise, read_npy, NULL, NULL, &error));
  g_autoptr (LfSpec) spec = lf_spec_new_for_reference (registry, "promiser", &error);
  LF_ASSERT_NO_ERROR (error);
  float values[] = { 1, 2, 3 };
  gsize n = 3;
  g_autoptr (LfNode) tree = lf_list_new_take (2, lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &n, values),
                                              lf_array_new_copy (LF_DTYPE_FLOAT32, 1, &n, values));
  g_autofree char *saved = lf_test_path ("promised.eqx");
  ck_assert (lf_tree_serialise_leaves (saved, tree, spec, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) back = lf_test_read_file (saved);
  ck_assert_uint_eq (g_bytes_get_size (back), 2 * 140);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (saved, tree, spec, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (loaded, tree));
}
END_TEST

START_TEST (test_preconditions)
{
  GError *error = NULL;
  lf_stream_free (NULL);
  LF_ASSERT_CRITICAL (ck_assert (lf_stream_new_for_fd (-1, FALSE) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_stream_new_for_file (NULL) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_stream_new_for_bytes (NULL) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_stream_new_for_data (NULL, 3) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_stream_new_for_callbacks (NULL, NULL, NULL, NULL) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (lf_stream_new_for_path (NULL, FALSE, &error) == NULL));
  LF_ASSERT_CRITICAL (ck_assert (!lf_stream_read (NULL, NULL, 0, &error)));
  g_autoptr (LfStream) s = lf_stream_new_for_data (NULL, 0);
  LF_ASSERT_CRITICAL (ck_assert (!lf_stream_at_end (s, NULL, &error)));
  LF_ASSERT_CRITICAL (lf_stream_set_name (s, NULL));
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("stream");
  TCase *tc = tcase_create ("stream");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_memory_writer);
  tcase_add_test (tc, test_data_reads);
  tcase_add_test (tc, test_bytes_slices);
  tcase_add_test (tc, test_path_read_ahead);
  tcase_add_test (tc, test_path_map);
  tcase_add_test (tc, test_path_errors);
  tcase_add_test (tc, test_path_fifo);
  tcase_add_test (tc, test_pipe_reads);
  tcase_add_test (tc, test_pipe_read_bytes_exact);
  tcase_add_test (tc, test_fd_exact_consumption);
  tcase_add_test (tc, test_fd_write_and_read_back);
  tcase_add_test (tc, test_dev_full);
  tcase_add_test (tc, test_sync_on_pipe);
  tcase_add_test (tc, test_fd_read_error);
  tcase_add_test (tc, test_file_stream);
  tcase_add_test (tc, test_callbacks);
  tcase_add_test (tc, test_peek_memory_and_path);
  tcase_add_test (tc, test_peek_fd_consumes_only_what_was_shown);
  tcase_add_test (tc, test_peek_pipe);
  tcase_add_test (tc, test_peek_file_and_callbacks);
  tcase_add_test (tc, test_rewrite);
  tcase_add_test (tc, test_preallocation_keeps_sizes);
  tcase_add_test (tc, test_preconditions);
  suite_add_tcase (suite, tc);
  return suite;
}
