/* Fault injection: writes that fail (a callback failing at its Nth call for
 * every N, a codec failing at every leaf, /dev/full, a file size limit, a
 * directory that cannot take a file), reads that fail mid-record at every
 * offset, headers that declare huge shapes, and a process SIGKILLed in the
 * middle of a save.  Each is a clear error; after a failed save of a path the
 * previous file is byte-identical and no temporary file is left beside it.
 *
 * CI runs as root, which ignores directory permissions: the read-only
 * directory case then uses a "directory" that is a regular file and a
 * directory under /proc, which refuse new files whoever asks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include "test-common.h"

/* ---- helpers ---------------------------------------------------------------- */

static LfNode *
ramp (LfDType dtype, gsize n, int seed)
{
  gsize bytes = n * lf_dtype_size (dtype);
  guint8 *data = g_malloc (bytes ? bytes : 1);
  for (gsize i = 0; i < bytes; i++)
    data[i] = (guint8) (i * 3 + (gsize) seed);
  if (dtype == LF_DTYPE_BOOL)
    for (gsize i = 0; i < bytes; i++)
      data[i] &= 1;
  return lf_array_new_take (dtype, 1, &n, data);
}

/* 12 leaves with records; `big` makes three of them 120-240 kB, so a save makes
 * many separate writes (small records are buffered, large ones go straight
 * through). */
static LfNode *
fault_tree (gboolean big)
{
  gsize large = big ? 30000 : 7;
  return lf_struct_new_take (
      "Net", "layers",
      lf_list_new_take (3, lf_tuple_new_take (2, ramp (LF_DTYPE_FLOAT32, large, 1),
                                              ramp (LF_DTYPE_FLOAT32, 4, 2)),
                        lf_tuple_new_take (2, ramp (LF_DTYPE_FLOAT64, large, 3),
                                           ramp (LF_DTYPE_INT8, 9, 4)),
                        lf_tuple_new_take (2, ramp (LF_DTYPE_INT32, large, 5),
                                           ramp (LF_DTYPE_BOOL, 3, 6))),
      "step", lf_scalar_new_int (1000), "lr", lf_scalar_new_float (3e-4),
      "fn", lf_opaque_new ("fn", NULL, NULL),
      "extra", lf_dict_new_take ("a", ramp (LF_DTYPE_UINT16, 5, 7),
                                 "b", ramp (LF_DTYPE_COMPLEX64, 2, 8),
                                 "c", ramp (LF_DTYPE_FLOAT16, 6, 9), NULL),
      "ema", lf_scalar_new_float (0.999), NULL);
}

/* A previous checkpoint to protect: a different tree saved at `path`. */
static GBytes *
save_previous (const char *path)
{
  g_autoptr (LfNode) previous = lf_struct_new_take ("Old", "w", ramp (LF_DTYPE_UINT8, 50, 42),
                                                    NULL);
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves (path, previous, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  return lf_test_read_file (path);
}

/* The previous file is intact and its directory holds nothing else but,
 * when `manifest` is given, the previous manifest (PATH.json), intact. */
static void
assert_previous_intact_full (const char *path, GBytes *previous, GBytes *manifest)
{
  g_autoptr (GBytes) now = lf_test_read_file (path);
  ck_assert_msg (g_bytes_equal (now, previous), "%s changed after a failed save", path);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *manifest_base = g_strconcat (base, ".json", NULL);
  if (manifest != NULL)
    {
      g_autofree char *manifest_path = g_strconcat (path, ".json", NULL);
      g_autoptr (GBytes) manifest_now = lf_test_read_file (manifest_path);
      ck_assert_msg (g_bytes_equal (manifest_now, manifest), "%s changed after a failed save",
                     manifest_path);
    }
  GDir *d = g_dir_open (dir, 0, NULL);
  ck_assert_ptr_nonnull (d);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    ck_assert_msg (strcmp (name, base) == 0
                   || (manifest != NULL && strcmp (name, manifest_base) == 0),
                   "%s left beside %s", name, base);
  g_dir_close (d);
}

static void
assert_previous_intact (const char *path, GBytes *previous)
{
  assert_previous_intact_full (path, previous, NULL);
}

/* A fresh directory holding only `name`'s previous checkpoint. */
static char *
fresh_dir (const char *what)
{
  static int counter;
  g_autofree char *name = g_strdup_printf ("%s-%d", what, counter++);
  char *dir = lf_test_path (name);
  ck_assert_int_eq (g_mkdir (dir, 0700), 0);
  return dir;
}

/* ---- writes failing at the Nth call -------------------------------------------- */

typedef struct {
  guint calls, fail_at;
  gsize bytes;
} WriteFault;

static gboolean
failing_write (gpointer user_data, const void *buffer, gsize count, GError **error)
{
  WriteFault *f = user_data;
  if (++f->calls == f->fail_at)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "injected write failure at call %u", f->calls);
      return FALSE;
    }
  f->bytes += count;
  return TRUE;
}

START_TEST (write_callback_fails_at_every_call)
{
  g_autoptr (LfNode) tree = fault_tree (TRUE);
  GError *error = NULL;
  WriteFault counting = { 0, 0, 0 };
  g_autoptr (LfStream) ok_stream = lf_stream_new_for_callbacks (NULL, failing_write, &counting, NULL);
  ck_assert (lf_tree_serialise_leaves_to_stream (ok_stream, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_NO_ERROR (error);
  ck_assert_uint_ge (counting.calls, 4);
  for (guint n = 1; n <= counting.calls; n++)
    {
      WriteFault fault = { 0, n, 0 };
      g_autoptr (LfStream) stream = lf_stream_new_for_callbacks (NULL, failing_write, &fault, NULL);
      ck_assert (!lf_tree_serialise_leaves_to_stream (stream, tree, NULL, NULL, NULL, &error));
      g_autofree char *needle = g_strdup_printf ("callbacks: injected write failure at call %u", n);
      LF_ASSERT_ERROR (error, LF_ERROR_IO, needle);
      ck_assert_uint_eq (fault.calls, n); /* stopped at the failure */
    }
  printf ("faults: write callback failing at call N for each of the %u calls: all "
          "LF_ERROR_IO\n", counting.calls);
}
END_TEST

/* A codec that fails at its Nth leaf after writing part of a record: a save
 * to a path that fails at every leaf in turn. */
typedef struct {
  guint calls, fail_at;
} CodecFault;

static gboolean
faulty_serialise (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
                  GError **error)
{
  CodecFault *f = user_data;
  if (++f->calls == f->fail_at)
    {
      lf_stream_write (out, "\x93NUMPY", 6, NULL);
      g_set_error (error, LF_ERROR, LF_ERROR_FAILED, "injected codec failure");
      return FALSE;
    }
  return lf_npy_write (out, leaf, 0, error);
}

static LfNode *
faulty_deserialise (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data,
                    GError **error)
{
  return lf_npy_read (in, error);
}

static gboolean
array_or_scalar (const LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_ARRAY || lf_node_get_kind (leaf) == LF_NODE_SCALAR;
}

START_TEST (path_save_failing_at_every_leaf_keeps_previous)
{
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  CodecFault fault = { 0, 0 };
  GError *error = NULL;
  ck_assert (lf_registry_register_func (registry, "faulty", "fails on demand", array_or_scalar,
                                        faulty_serialise, faulty_deserialise, &fault, NULL,
                                        &error));
  g_autoptr (LfSpec) spec = lf_spec_new_for_reference (registry, "faulty", &error);
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (LfNode) tree = fault_tree (FALSE);
  g_autofree char *dir = fresh_dir ("codec");
  g_autofree char *path = g_build_filename (dir, "ckpt.eqx", NULL);
  g_autoptr (GBytes) previous = save_previous (path);
  guint leaves = 0;
  for (guint n = 1;; n++)
    {
      fault = (CodecFault) { 0, n };
      gboolean ok = lf_tree_serialise_leaves (path, tree, spec, NULL, NULL, &error);
      if (ok)
        {
          leaves = n - 1;
          break;
        }
      LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "injected codec failure");
      assert_previous_intact (path, previous);
    }
  ck_assert_uint_eq (leaves, 12);

  /* The same with manifests: the previous file's manifest stays too. */
  g_autoptr (LfNode) old_tree = lf_struct_new_take ("Old", "w", ramp (LF_DTYPE_UINT8, 50, 42),
                                                    NULL);
  ck_assert (lf_tree_serialise_leaves_full (path, old_tree, NULL, NULL, NULL, LF_SAVE_MANIFEST,
                                            &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) previous_eqx = lf_test_read_file (path);
  g_autofree char *manifest_path = g_strconcat (path, ".json", NULL);
  g_autoptr (GBytes) previous_manifest = lf_test_read_file (manifest_path);
  for (guint n = 1; n <= leaves; n++)
    {
      fault = (CodecFault) { 0, n };
      ck_assert (!lf_tree_serialise_leaves_full (path, tree, spec, NULL, NULL, LF_SAVE_MANIFEST,
                                                 &error));
      LF_ASSERT_ERROR (error, LF_ERROR_FAILED, "injected codec failure");
      assert_previous_intact_full (path, previous_eqx, previous_manifest);
    }
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, old_tree, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, old_tree));
  printf ("faults: path save failing at leaf N for each of the %u leaves, without and with "
          "a manifest: previous file (and manifest) byte-identical, no temporary left\n",
          leaves);
}
END_TEST

/* ---- the operating system refusing writes ------------------------------------------ */

START_TEST (dev_full)
{
  int fd = open ("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    {
      printf ("faults: /dev/full not available, skipped\n");
      return;
    }
  g_autoptr (LfNode) tree = fault_tree (TRUE);
  g_autoptr (LfStream) stream = lf_stream_new_for_fd (fd, TRUE);
  GError *error = NULL;
  ck_assert (!lf_tree_serialise_leaves_to_stream (stream, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (ENOSPC));
}
END_TEST

/* A file size limit makes write() fail with EFBIG part-way through a save
 * to a path, as a full disk does. */
START_TEST (file_size_limit_keeps_previous)
{
  g_autoptr (LfNode) tree = fault_tree (TRUE);
  g_autofree char *dir = fresh_dir ("fsize");
  g_autofree char *path = g_build_filename (dir, "ckpt.eqx", NULL);
  g_autoptr (GBytes) previous = save_previous (path);
  struct rlimit saved;
  ck_assert_int_eq (getrlimit (RLIMIT_FSIZE, &saved), 0);
  void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
  guint cases = 0;
  for (rlim_t limit = 0; limit <= 96 * 1024; limit += 8 * 1024)
    {
      struct rlimit small = { limit, saved.rlim_max };
      ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &small), 0);
      GError *error = NULL;
      gboolean ok = lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error);
      ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &saved), 0);
      ck_assert (!ok);
      LF_ASSERT_ERROR (error, LF_ERROR_IO, path);
      assert_previous_intact (path, previous);
      cases++;
    }
  signal (SIGXFSZ, old_handler);
  printf ("faults: file size limit from 0 to 96 kB (%u cases): all LF_ERROR_IO, previous "
          "file byte-identical, no temporary left\n", cases);
}
END_TEST

START_TEST (directory_refuses_new_files)
{
  g_autoptr (LfNode) tree = fault_tree (FALSE);
  GError *error = NULL;

  /* Works as root too: the "directory" is a regular file. */
  g_autofree char *file = lf_test_path ("not-a-dir");
  lf_test_write_file (file, "x", 1);
  g_autofree char *inside = g_build_filename (file, "ckpt.eqx", NULL);
  ck_assert (!lf_tree_serialise_leaves (inside, tree, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "cannot create a temporary file");

  /* /proc/self takes no new files, even from root. */
  if (g_file_test ("/proc/self", G_FILE_TEST_IS_DIR))
    {
      ck_assert (!lf_tree_serialise_leaves ("/proc/self/ckpt.eqx", tree, NULL, NULL, NULL,
                                            &error));
      LF_ASSERT_ERROR (error, LF_ERROR_IO, "/proc/self/ckpt.eqx");
    }

  /* A read-only directory, where permissions apply (not root). */
  if (geteuid () != 0)
    {
      g_autofree char *dir = fresh_dir ("readonly");
      g_autofree char *path = g_build_filename (dir, "ckpt.eqx", NULL);
      g_autoptr (GBytes) previous = save_previous (path);
      ck_assert_int_eq (g_chmod (dir, 0500), 0);
      gboolean ok = lf_tree_serialise_leaves (path, tree, NULL, NULL, NULL, &error);
      g_chmod (dir, 0700);
      ck_assert (!ok);
      LF_ASSERT_ERROR (error, LF_ERROR_IO, g_strerror (EACCES));
      assert_previous_intact (path, previous);
    }
  else
    printf ("faults: running as root: read-only directory checked as a file and /proc/self\n");
}
END_TEST

/* ---- reads failing mid-record -------------------------------------------------------- */

typedef struct {
  const guint8 *data;
  gsize size, offset, fail_at;
} ReadFault;

static gssize
failing_read (gpointer user_data, void *buffer, gsize count, GError **error)
{
  ReadFault *f = user_data;
  if (f->offset >= f->fail_at)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "injected read failure at byte %zu", f->offset);
      return -1;
    }
  gsize n = MIN (MIN (count, f->size - f->offset), f->fail_at - f->offset);
  memcpy (buffer, f->data + f->offset, n);
  f->offset += n;
  return (gssize) n;
}

START_TEST (read_fails_at_every_offset)
{
  g_autoptr (LfNode) tree = fault_tree (FALSE);
  GError *error = NULL;
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (out, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  for (gsize at = 0; at < size; at++)
    {
      ReadFault fault = { data, size, 0, at };
      g_autoptr (LfStream) in = lf_stream_new_for_callbacks (failing_read, NULL, &fault, NULL);
      g_autoptr (LfNode) back = lf_tree_deserialise_leaves_from_stream (in, tree, NULL, NULL,
                                                                        NULL, &error);
      ck_assert_ptr_null (back);
      ck_assert_msg (error != NULL && strstr (error->message, ": record ") != NULL,
                     "failure at byte %zu: %s", at, error ? error->message : "none");
      g_autofree char *needle = g_strdup_printf ("injected read failure at byte %zu", at);
      LF_ASSERT_ERROR (error, LF_ERROR_IO, needle);
    }
  /* Past the end the load succeeds and never asks for more. */
  ReadFault fault = { data, size, 0, size };
  g_autoptr (LfStream) in = lf_stream_new_for_callbacks (failing_read, NULL, &fault, NULL);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves_from_stream (in, tree, NULL, NULL, NULL,
                                                                    &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (back, tree));
  printf ("faults: read failing at each of %zu offsets: all LF_ERROR_IO naming the record, "
          "no tree\n", size);
}
END_TEST

/* ---- huge shapes --------------------------------------------------------------------- */

/* A version 1.0 record: header dict `dict` padded as numpy pads it, then
 * `data_size` bytes of data. */
static GBytes *
record_with_dict (const char *dict, gsize data_size)
{
  GString *text = g_string_new (dict);
  while ((10 + text->len + 1) % 64 != 0)
    g_string_append_c (text, ' ');
  g_string_append_c (text, '\n');
  GByteArray *out = g_byte_array_new ();
  guint8 prefix[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                        (guint8) (text->len & 0xff), (guint8) (text->len >> 8) };
  g_byte_array_append (out, prefix, sizeof prefix);
  g_byte_array_append (out, (const guint8 *) text->str, (guint) text->len);
  for (gsize i = 0; i < data_size; i++)
    g_byte_array_append (out, (const guint8 *) "\x01", 1);
  g_string_free (text, TRUE);
  return g_byte_array_free_to_bytes (out);
}

/* Serves `data` then, with `endless`, zeros forever: a pipe that never ends. */
typedef struct {
  GBytes *bytes;
  gsize offset;
  guint64 served, limit;
} Pipe;

static gssize
pipe_read (gpointer user_data, void *buffer, gsize count, GError **error)
{
  Pipe *p = user_data;
  gsize size;
  const guint8 *data = g_bytes_get_data (p->bytes, &size);
  if (p->served >= p->limit)
    return 0;
  gsize n = MIN (count, (gsize) (p->limit - p->served));
  for (gsize i = 0; i < n; i++)
    ((guint8 *) buffer)[i] = p->offset + i < size ? data[p->offset + i] : 0;
  p->offset += n;
  p->served += n;
  return (gssize) n;
}

/* The declared size is checked against what is left before anything is
 * allocated (memory, files), and read in bounded chunks when the size is
 * unknown (pipes): in a child limited to 512 MB more address space than it
 * has, a header declaring 8 TB over 64 MB of input fails cleanly. */
START_TEST (huge_shape_allocates_nothing)
{
  g_autoptr (LfNode) like = lf_array_new_abstract (LF_DTYPE_FLOAT64, 1, (gsize[]) { 1ull << 40 });
  g_autoptr (GBytes) record = record_with_dict (
      "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }", 16);
  GError *error = NULL;

  g_autoptr (LfStream) memory = lf_stream_new_for_bytes (record);
  ck_assert_ptr_null (lf_tree_deserialise_leaves_from_stream (memory, like, NULL, NULL, NULL,
                                                              &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "8796093022208 bytes");

  g_autofree char *path = lf_test_path ("huge.eqx");
  lf_test_write_file (path, g_bytes_get_data (record, NULL), g_bytes_get_size (record));
  ck_assert_ptr_null (lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "huge.eqx: record 0");

  fflush (stdout);
  pid_t child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    {
      /* Address space now + 512 MB (works under ASan and valgrind too:
       * their reservations are already counted). */
      g_autofree char *status = NULL;
      g_file_get_contents ("/proc/self/status", &status, NULL, NULL);
      const char *vm = status != NULL ? strstr (status, "VmSize:") : NULL;
      if (vm != NULL)
        {
          rlim_t kb = strtoull (vm + 7, NULL, 10);
          struct rlimit limit = { (kb << 10) + ((rlim_t) 512 << 20), RLIM_INFINITY };
          setrlimit (RLIMIT_AS, &limit);
        }
      Pipe pipe_state = { record, 0, 0, (guint64) 64 << 20 };
      LfStream *pipe = lf_stream_new_for_callbacks (pipe_read, NULL, &pipe_state, NULL);
      GError *local = NULL;
      LfNode *out = lf_tree_deserialise_leaves_from_stream (pipe, like, NULL, NULL, NULL, &local);
      gboolean ok = out == NULL && local != NULL && local->code == LF_ERROR_TRUNCATED;
      lf_stream_free (pipe);
      g_clear_error (&local);
      lf_test_child_exit (ok ? 0 : 1);
    }
  int status = 0;
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0,
                 "pipe with a huge declared shape: child status %d", status);
}
END_TEST

/* Shapes whose size overflows are corrupt, whatever else the header says. */
START_TEST (overflowing_shapes_refused)
{
  static const char *const dicts[] = {
    "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }",
    "{'descr': '<u1', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }",
    "{'descr': '<u1', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (dicts); i++)
    {
      g_autoptr (GBytes) record = record_with_dict (dicts[i], 0);
      g_autoptr (LfStream) stream = lf_stream_new_for_bytes (record);
      GError *error = NULL;
      g_autoptr (LfNode) leaf = lf_npy_read (stream, &error);
      ck_assert_ptr_null (leaf);
      ck_assert_msg (error != NULL, "%s: loaded", dicts[i]);
      ck_assert_msg (error->code == LF_ERROR_CORRUPT, "%s: %s", dicts[i], error->message);
      ck_assert_msg (strstr (error->message, "too large") != NULL
                     || strstr (error->message, "overflows") != NULL, "%s", error->message);
      g_clear_error (&error);
    }
}
END_TEST

/* ---- SIGKILL in the middle of a save --------------------------------------------------- */

/* Size of the save's temporary file beside `path`, or -1 when none. */
static goffset
temp_size (const char *dir, const char *base)
{
  g_autofree char *prefix = g_strdup_printf (".%s.", base);
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return -1;
  goffset size = -1;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix))
      {
        g_autofree char *full = g_build_filename (dir, name, NULL);
        struct stat st;
        if (stat (full, &st) == 0)
          size = st.st_size;
      }
  g_dir_close (d);
  return size;
}

/* A child saves a 200 MB tree over a checkpoint; the parent kills it with
 * SIGKILL once `threshold` bytes of the temporary file exist.  The
 * checkpoint must be intact and load.  The killed save's temporary file
 * stays (nobody is left to remove it); the test directory's cleanup does. */
static void
kill_during_save (goffset threshold)
{
  g_autofree char *dir = fresh_dir ("killed");
  g_autofree char *path = g_build_filename (dir, "ckpt.eqx", NULL);
  g_autoptr (GBytes) previous = save_previous (path);
  fflush (stdout);
  pid_t child = fork ();
  ck_assert_int_ge (child, 0);
  if (child == 0)
    {
      LfNode *items[50];
      for (gsize i = 0; i < G_N_ELEMENTS (items); i++)
        items[i] = lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, (gsize[]) { 1 << 20 });
      LfNode *big = lf_list_new (G_N_ELEMENTS (items), items);
      lf_tree_serialise_leaves (path, big, NULL, NULL, NULL, NULL);
      lf_test_child_exit (3); /* finished before the kill: the parent fails the test */
    }
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  g_autofree char *base = g_path_get_basename (path);
  goffset seen = -1;
  while ((seen = temp_size (dir, base)) < threshold && g_get_monotonic_time () < deadline)
    {
      int status;
      if (waitpid (child, &status, WNOHANG) == child)
        ck_abort_msg ("the saving child ended (status %d) before it could be killed", status);
      g_usleep (200);
    }
  kill (child, SIGKILL);
  ck_assert_msg (seen >= threshold, "no temporary file of %" G_GOFFSET_FORMAT " bytes within "
                 "120 s (last seen %" G_GOFFSET_FORMAT ")", threshold, seen);
  int status = 0;
  ck_assert_int_eq (waitpid (child, &status, 0), child);
  ck_assert_msg (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
                 "child status %d (temporary file at %" G_GOFFSET_FORMAT " bytes)", status, seen);

  g_autoptr (GBytes) now = lf_test_read_file (path);
  ck_assert_msg (g_bytes_equal (now, previous), "checkpoint changed by a killed save");
  g_autoptr (LfNode) like = lf_struct_new_take ("Old", "w",
                                                lf_array_new_abstract (LF_DTYPE_UINT8, 1,
                                                                       (gsize[]) { 50 }),
                                                NULL);
  GError *error = NULL;
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_nonnull (back);
  printf ("faults: save of a 200 MB tree SIGKILLed with %" G_GOFFSET_FORMAT " bytes in its "
          "temporary file: checkpoint byte-identical and loads\n", temp_size (dir, base));
}

START_TEST (sigkill_during_save_keeps_checkpoint)
{
  kill_during_save (64 * 1024);
  kill_during_save (16 * 1024 * 1024);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *s = suite_create ("faults");
  TCase *tc = tcase_create ("faults");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, write_callback_fails_at_every_call);
  tcase_add_test (tc, path_save_failing_at_every_leaf_keeps_previous);
  tcase_add_test (tc, dev_full);
  tcase_add_test (tc, file_size_limit_keeps_previous);
  tcase_add_test (tc, directory_refuses_new_files);
  tcase_add_test (tc, read_fails_at_every_offset);
  tcase_add_test (tc, huge_shape_allocates_nothing);
  tcase_add_test (tc, overflowing_shapes_refused);
  tcase_add_test (tc, sigkill_during_save_keeps_checkpoint);
  suite_add_tcase (s, tc);
  return s;
}
