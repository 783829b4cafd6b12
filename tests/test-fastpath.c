/* The fast paths of saving and loading give the same bytes and the same
 * trees as the plain ones: big reads into their own mappings (one thread
 * and two, recycled, carved out of one reservation for the file, freed
 * alone), middle-sized reads in recycled slabs, mapped loads that hand out slices (aligned records) or copies
 * (misaligned records), the npy(align=N) layout, the header-parse cache and
 * the writev save path. */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <valgrind/valgrind.h>
#include "test-common.h"

/* An array whose bytes follow a pattern that differs per leaf. */
static LfNode *
patterned (LfDType dtype, gsize n, guint seed)
{
  gsize bytes = n * lf_dtype_size (dtype);
  guint8 *data = g_malloc (bytes ? bytes : 1);
  for (gsize i = 0; i < bytes; i++)
    data[i] = (guint8) (i * 131 + seed * 7 + (i >> 12));
  if (dtype == LF_DTYPE_BOOL)
    for (gsize i = 0; i < bytes; i++)
      data[i] &= 1;
  return lf_array_new_take (dtype, 1, &n, data);
}

/* Leaves of odd byte sizes between wide-dtype leaves, so that with numpy's
 * layout many records' data sit at offsets misaligned for their dtype;
 * big leaves cross the sizes where reads change strategy (1 MiB: a
 * buffer of its own, recycled; 2 MiB: two threads). */
static LfNode *
awkward_tree (void)
{
  return lf_list_new_take (
      9, patterned (LF_DTYPE_BOOL, 3, 1), patterned (LF_DTYPE_FLOAT64, 5, 2),
      patterned (LF_DTYPE_UINT8, 1, 3), patterned (LF_DTYPE_FLOAT32, (1 << 20) / 4 + 3, 4),
      patterned (LF_DTYPE_INT8, 5, 5), patterned (LF_DTYPE_COMPLEX128, (9 << 20) / 16 + 1, 6),
      patterned (LF_DTYPE_BOOL, 1, 7), patterned (LF_DTYPE_FLOAT16, 4097, 8),
      patterned (LF_DTYPE_INT64, 7, 9));
}

static LfNode *
abstract_like (LfNode *tree)
{
  gsize n = lf_node_get_n_children (tree);
  LfNode **items = g_new (LfNode *, n);
  for (gsize i = 0; i < n; i++)
    {
      LfNode *leaf = lf_node_get_child (tree, i);
      items[i] = lf_array_new_abstract (lf_array_get_dtype (leaf), lf_array_get_ndim (leaf),
                                        lf_array_get_shape (leaf));
    }
  LfNode *like = lf_list_new (n, items);
  for (gsize i = 0; i < n; i++)
    lf_node_unref (items[i]);
  g_free (items);
  return like;
}

/* Every array leaf's data is aligned for its dtype. */
static void
assert_aligned (LfNode *tree)
{
  for (gsize i = 0; i < lf_node_get_n_children (tree); i++)
    {
      LfNode *leaf = lf_node_get_child (tree, i);
      LfDType dtype = lf_array_get_dtype (leaf);
      gsize unit = lf_dtype_size (dtype) / (lf_dtype_is_complex (dtype) ? 2 : 1);
      ck_assert_msg ((guintptr) lf_array_get_data (leaf) % unit == 0,
                     "leaf %" G_GSIZE_FORMAT " (%s) handed out misaligned", i,
                     lf_dtype_name (dtype));
    }
}

static LfNode *
load (const char *file, LfNode *like, LfSpec *spec, LfLoadFlags flags)
{
  GError *error = NULL;
  LfNode *out = lf_tree_deserialise_leaves_full (file, like, spec, NULL, NULL, flags, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert_ptr_nonnull (out);
  return out;
}

/* numpy's layout: the read path (own mappings, threads) and the mapped path
 * (slices where aligned, copies where not) give the same tree. */
START_TEST (test_read_and_mmap_agree_numpy_layout)
{
  g_autoptr (LfNode) tree = awkward_tree ();
  g_autoptr (LfNode) like = abstract_like (tree);
  g_autofree char *file = lf_test_path ("awkward.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves_full (file, tree, NULL, NULL, NULL, LF_SAVE_NO_SYNC,
                                            &error));
  LF_ASSERT_NO_ERROR (error);

  g_autoptr (LfNode) read = load (file, like, NULL, LF_LOAD_DEFAULT);
  g_autoptr (LfNode) mapped = load (file, like, NULL, LF_LOAD_MMAP);
  ck_assert (lf_tree_equal (read, tree));
  ck_assert (lf_tree_equal (mapped, tree));
  assert_aligned (read);
  assert_aligned (mapped);
}
END_TEST

/* Saved bytes are the same through every writer: path (writev), fd
 * stream (writev), FILE and memory (plain buffered writes). */
START_TEST (test_writers_agree)
{
  g_autoptr (LfNode) tree = awkward_tree ();
  GError *error = NULL;
  g_autoptr (LfStream) mem = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (mem, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) want = lf_stream_steal_bytes (mem);

  g_autofree char *file = lf_test_path ("writers.eqx");
  ck_assert (lf_tree_serialise_leaves_full (file, tree, NULL, NULL, NULL, LF_SAVE_NO_SYNC,
                                            &error));
  g_autoptr (GBytes) by_path = lf_test_read_file (file);
  ck_assert (g_bytes_equal (by_path, want));

  g_autofree char *fd_file = lf_test_path ("writers-fd.eqx");
  int fd = g_open (fd_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge (fd, 0);
  /* Something of the caller's first: the stream writes after it. */
  ck_assert_int_eq (write (fd, "abc", 3), 3);
  LfStream *stream = lf_stream_new_for_fd (fd, TRUE);
  ck_assert (lf_tree_serialise_leaves_to_stream (stream, tree, NULL, NULL, NULL, &error));
  ck_assert_uint_eq (lf_stream_tell (stream), g_bytes_get_size (want));
  lf_stream_free (stream);
  g_autoptr (GBytes) by_fd = lf_test_read_file (fd_file);
  ck_assert_uint_eq (g_bytes_get_size (by_fd), g_bytes_get_size (want) + 3);
  ck_assert (memcmp ((const guint8 *) g_bytes_get_data (by_fd, NULL) + 3,
                     g_bytes_get_data (want, NULL), g_bytes_get_size (want)) == 0);
  LF_ASSERT_NO_ERROR (error);
}
END_TEST

/* A synced path save hands its pages to the disk every 32 MiB as it
 * writes them (write-behind): the file is still exactly the stream, through
 * big records (writev) and many small ones (buffered writes). */
START_TEST (test_synced_save_writes_behind)
{
  GPtrArray *leaves = g_ptr_array_new ();
  for (guint i = 0; i < 3; i++)
    {
      gsize n = ((gsize) 12 << 20) / 4 + i;   /* 12 MiB of float32, odd sizes */
      float *data = g_new (float, n);
      for (gsize k = 0; k < n; k++)
        data[k] = (float) (k % 1000) + (float) i;
      g_ptr_array_add (leaves, lf_array_new_take (LF_DTYPE_FLOAT32, 1, &n, data));
    }
  for (guint i = 0; i < 200; i++)
    {
      gsize n = 32768 + i;                      /* 32 KiB of uint8 each */
      guint8 *data = g_malloc (n);
      memset (data, (int) i, n);
      g_ptr_array_add (leaves, lf_array_new_take (LF_DTYPE_UINT8, 1, &n, data));
    }
  g_autoptr (LfNode) tree = lf_list_new (leaves->len, (LfNode *const *) leaves->pdata);
  g_ptr_array_set_free_func (leaves, (GDestroyNotify) lf_node_unref);
  g_ptr_array_free (leaves, TRUE);
  GError *error = NULL;
  g_autoptr (LfStream) mem = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (mem, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) want = lf_stream_steal_bytes (mem);
  ck_assert_uint_gt (g_bytes_get_size (want), (gsize) 40 << 20);

  g_autofree char *file = lf_test_path ("synced.eqx");
  ck_assert (lf_tree_serialise_leaves_full (file, tree, NULL, NULL, NULL, LF_SAVE_DEFAULT,
                                            &error));
  LF_ASSERT_NO_ERROR (error);
  g_autoptr (GBytes) saved = lf_test_read_file (file);
  ck_assert (g_bytes_equal (saved, want));
}
END_TEST

/* A big record's writev to an fd that refuses writes fails with IO naming
 * the stream; a short header-only buffer is never written twice. */
START_TEST (test_writev_error)
{
  g_autofree char *file = lf_test_path ("readonly.bin");
  lf_test_write_file (file, "", 0);
  int fd = g_open (file, O_RDONLY, 0);
  ck_assert_int_ge (fd, 0);
  LfStream *stream = lf_stream_new_for_fd (fd, TRUE);
  lf_stream_set_name (stream, "readonly.bin");
  g_autoptr (LfNode) big = patterned (LF_DTYPE_FLOAT32, 1 << 16, 1);
  GError *error = NULL;
  ck_assert (!lf_npy_write (stream, big, 0, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_IO, "readonly.bin: write failed");
  lf_stream_free (stream);
}
END_TEST

/* npy(align=64): every record's data starts at a multiple of 64 in the
 * file; the mapped load hands out slices of the mapping (checked through a
 * GBytes stream whose address range we know) and equals the read load. */
START_TEST (test_align64_zero_copy)
{
  g_autoptr (LfNode) tree = awkward_tree ();
  g_autoptr (LfNode) like = abstract_like (tree);
  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_spec_new_for_reference (NULL, "npy(align=64)", &error);
  LF_ASSERT_NO_ERROR (error);
  const char *out = g_getenv ("LF_ALIGN_OUT");  /* set by interop-align.sh */
  g_autofree char *file = out != NULL ? g_strdup (out) : lf_test_path ("align64.eqx");
  ck_assert (lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL, LF_SAVE_NO_SYNC,
                                            &error));
  LF_ASSERT_NO_ERROR (error);

  g_autoptr (GBytes) bytes = lf_test_read_file (file);
  gsize size;
  const guint8 *base = g_bytes_get_data (bytes, &size);
  /* Walk the records: each data offset is a multiple of 64. */
  g_autoptr (LfStream) walk = lf_stream_new_for_data (base, size);
  for (gsize i = 0; i < lf_node_get_n_children (tree); i++)
    {
      LfNpyHeader header;
      ck_assert (lf_npy_read_header (walk, &header, &error));
      ck_assert_uint_eq (lf_stream_tell (walk) % 64, 0);
      ck_assert (lf_stream_skip (walk, header.data_size, &error));
    }
  LF_ASSERT_NO_ERROR (error);

  /* 64-byte aligned copy of the file, so offsets mod 64 are addresses mod 64. */
  guint8 *copy = g_aligned_alloc (size, 1, 64);
  memcpy (copy, base, size);
  g_autoptr (GBytes) aligned = g_bytes_new_with_free_func (copy, size, g_aligned_free, copy);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (aligned);
  g_autoptr (LfNode) sliced = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL,
                                                                      NULL, &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (sliced, tree));
  for (gsize i = 0; i < lf_node_get_n_children (sliced); i++)
    {
      const guint8 *data = lf_array_get_data (lf_node_get_child (sliced, i));
      ck_assert_msg (data >= copy && data < copy + size, "leaf %" G_GSIZE_FORMAT " was copied", i);
      ck_assert_uint_eq ((guintptr) data % 64, 0);
    }

  g_autoptr (LfNode) mapped = load (file, like, spec, LF_LOAD_MMAP);
  g_autoptr (LfNode) read = load (file, like, spec, LF_LOAD_DEFAULT);
  ck_assert (lf_tree_equal (mapped, tree));
  ck_assert (lf_tree_equal (read, tree));
  assert_aligned (mapped);
  /* The mapped tree outlives everything else that touched the file. */
  g_clear_pointer (&read, lf_node_unref);
  ck_assert (lf_tree_equal (mapped, tree));
}
END_TEST

/* From a GBytes stream at an odd address, misaligned records are copied
 * (and aligned), byte-sized ones are sliced. */
START_TEST (test_misaligned_slices_are_copied)
{
  g_autoptr (LfNode) tree = lf_list_new_take (2, patterned (LF_DTYPE_FLOAT64, 9, 1),
                                              patterned (LF_DTYPE_UINT8, 9, 2));
  g_autoptr (LfNode) like = abstract_like (tree);
  GError *error = NULL;
  g_autoptr (LfStream) mem = lf_stream_new_memory ();
  ck_assert (lf_tree_serialise_leaves_to_stream (mem, tree, NULL, NULL, NULL, &error));
  g_autoptr (GBytes) want = lf_stream_steal_bytes (mem);
  gsize size = g_bytes_get_size (want);
  guint8 *odd = g_malloc (size + 1);
  memcpy (odd + 1, g_bytes_get_data (want, NULL), size);
  g_autoptr (GBytes) whole = g_bytes_new_take (odd, size + 1);
  g_autoptr (GBytes) shifted = g_bytes_new_from_bytes (whole, 1, size);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (shifted);
  g_autoptr (LfNode) out = lf_tree_deserialise_leaves_from_stream (in, like, NULL, NULL, NULL,
                                                                   &error);
  LF_ASSERT_NO_ERROR (error);
  ck_assert (lf_tree_equal (out, tree));
  assert_aligned (out);
  const guint8 *f64 = lf_array_get_data (lf_node_get_child (out, 0));
  const guint8 *u8 = lf_array_get_data (lf_node_get_child (out, 1));
  ck_assert (f64 < odd || f64 >= odd + size + 1);  /* copied */
  ck_assert (u8 > odd && u8 < odd + size + 1);     /* sliced */
}
END_TEST

/* The parse cache: a run of identical headers, then one that differs in a
 * single byte, then a corrupt one of the same length. */
START_TEST (test_header_cache)
{
  char a[LF_NPY_HEADER_MAX], b[LF_NPY_HEADER_MAX];
  gsize shape_a = 16, shape_b = 17;
  gsize la = lf_npy_header_format (a, sizeof a, LF_DTYPE_FLOAT32, 1, &shape_a, 0, 0);
  gsize lb = lf_npy_header_format (b, sizeof b, LF_DTYPE_FLOAT32, 1, &shape_b, 0, 0);
  ck_assert_uint_eq (la, lb);
  LfNpyHeader h;
  GError *error = NULL;
  for (int i = 0; i < 3; i++)
    {
      ck_assert (lf_npy_header_parse ((guint8 *) a, la, &h, &error));
      ck_assert_uint_eq (h.shape[0], 16);
      ck_assert_uint_eq (h.header_size, la);
    }
  ck_assert (lf_npy_header_parse ((guint8 *) b, lb, &h, &error));
  ck_assert_uint_eq (h.shape[0], 17);
  ck_assert (lf_npy_header_parse ((guint8 *) a, la, &h, &error));
  ck_assert_uint_eq (h.shape[0], 16);
  a[20] = '#';  /* inside 'descr' */
  ck_assert (!lf_npy_header_parse ((guint8 *) a, la, &h, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_CORRUPT, NULL);
  /* Formatting by hand matches numpy's text for wide and zero dims. */
  gsize dims[3] = { 0, 12345678901, 1 };
  gsize n = lf_npy_header_format (a, sizeof a, LF_DTYPE_INT64, 3, dims, 0, 0);
  ck_assert_uint_eq (n % 64, 0);
  /* From the dict on: the length field may hold a NUL byte. */
  ck_assert (g_strstr_len (a + 10, (gssize) n - 10,
                           "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 12345678901, 1), }"
                           "                    ") != NULL);
  ck_assert (lf_npy_header_parse ((guint8 *) a, n, &h, &error));
  ck_assert_uint_eq (h.shape[1], 12345678901u);
}
END_TEST

/* Loading many small identical records (the cached path) and a file cut
 * inside a big record (the big-read path) still reports TRUNCATED. */
START_TEST (test_big_record_truncated)
{
  g_autoptr (LfNode) tree = lf_list_new_take (1, patterned (LF_DTYPE_FLOAT32, 1 << 20, 3));
  g_autoptr (LfNode) like = abstract_like (tree);
  g_autofree char *file = lf_test_path ("cut.eqx");
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves_full (file, tree, NULL, NULL, NULL, LF_SAVE_NO_SYNC,
                                            &error));
  ck_assert_int_eq (truncate (file, 128 + (2 << 20)), 0);
  ck_assert_ptr_null (lf_tree_deserialise_leaves (file, like, NULL, NULL, NULL, &error));
  LF_ASSERT_ERROR (error, LF_ERROR_TRUNCATED, "cut.eqx: record 0 at offset 0 ([0])");
}
END_TEST

/* Freed big read buffers are kept and reused by the next load, which must
 * overwrite every byte of them: a reload after scribbling over the first
 * tree's buffers gives the saved values, in the same memory when the
 * layout is the same, and after lf_release_read_buffers() in new memory. */
START_TEST (test_read_buffers_recycled)
{
  g_autoptr (LfNode) tree = awkward_tree ();
  g_autoptr (LfNode) like = abstract_like (tree);
  g_autofree char *file = lf_test_path ("recycled.eqx");
  g_autofree char *aligned = lf_test_path ("recycled-a64.eqx");
  g_autoptr (LfSpec) align64 = lf_spec_new_for_reference (NULL, "npy(align=64)", NULL);
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves_full (file, tree, NULL, NULL, NULL, LF_SAVE_NO_SYNC,
                                            &error));
  ck_assert (lf_tree_serialise_leaves_full (aligned, tree, align64, NULL, NULL,
                                            LF_SAVE_NO_SYNC, &error));
  LF_ASSERT_NO_ERROR (error);
  const gsize big[] = { 3, 5 };   /* the leaves of 1 MiB and more */

  LfNode *first = load (file, like, NULL, LF_LOAD_DEFAULT);
  gconstpointer data[G_N_ELEMENTS (big)];
  for (gsize i = 0; i < G_N_ELEMENTS (big); i++)
    {
      LfNode *leaf = lf_node_get_child (first, big[i]);
      data[i] = lf_array_get_data (leaf);
      memset ((gpointer) data[i], 0xEE, lf_array_get_n_bytes (leaf));
    }
  lf_node_unref (first);

  g_autoptr (LfNode) again = load (file, like, NULL, LF_LOAD_DEFAULT);
  ck_assert (lf_tree_equal (again, tree));
  for (gsize i = 0; i < G_N_ELEMENTS (big); i++)
    ck_assert_ptr_eq (lf_array_get_data (lf_node_get_child (again, big[i])), data[i]);
  g_clear_pointer (&again, lf_node_unref);

  /* Another layout: other offsets within the pages. */
  g_autoptr (LfNode) shifted = load (aligned, like, align64, LF_LOAD_DEFAULT);
  ck_assert (lf_tree_equal (shifted, tree));
  assert_aligned (shifted);
  g_clear_pointer (&shifted, lf_node_unref);

  lf_release_read_buffers ();
  lf_release_read_buffers ();
  g_autoptr (LfNode) fresh = load (file, like, NULL, LF_LOAD_DEFAULT);
  ck_assert (lf_tree_equal (fresh, tree));
}
END_TEST

/* Saves `tree` to the test folder's `name`; returns the path. */
static char *
saved (LfNode *tree, const char *name)
{
  char *file = lf_test_path (name);
  GError *error = NULL;
  ck_assert (lf_tree_serialise_leaves_full (file, tree, NULL, NULL, NULL, LF_SAVE_NO_SYNC,
                                            &error));
  LF_ASSERT_NO_ERROR (error);
  return file;
}

/* Big leaves of one load share a reservation for the file, but each owns
 * its pages: with the pool off (freed pieces are unmapped), freeing the
 * leaves one by one in any order leaves every other leaf whole. */
START_TEST (test_arena_pieces_freed_alone)
{
  g_setenv ("LEAFIO_BUFFER_POOL_MB", "0", TRUE);
  lf_release_read_buffers ();
  g_autoptr (LfNode) tree = lf_list_new_take (
      7, patterned (LF_DTYPE_FLOAT32, (300 << 10) / 4 + 1, 1),
      patterned (LF_DTYPE_UINT8, (3 << 19) + 5, 2), patterned (LF_DTYPE_INT8, 9, 3),
      patterned (LF_DTYPE_FLOAT64, (5 << 20) / 8, 4), patterned (LF_DTYPE_INT16, 100, 5),
      patterned (LF_DTYPE_UINT8, (2 << 20) + 100, 6),
      patterned (LF_DTYPE_FLOAT32, (260 << 10) / 4, 7));
  g_autoptr (LfNode) like = abstract_like (tree);
  g_autofree char *file = saved (tree, "arena.eqx");
  LfNode *loaded = load (file, like, NULL, LF_LOAD_DEFAULT);
  ck_assert (lf_tree_equal (loaded, tree));
  assert_aligned (loaded);

  enum { N = 7 };
  LfNode *leaves[N];
  for (gsize i = 0; i < N; i++)
    leaves[i] = lf_node_ref (lf_node_get_child (loaded, i));
  lf_node_unref (loaded);
  /* The big ones (from 256 KiB) share no page. */
  const gsize big[] = { 0, 1, 3, 5, 6 };
  for (gsize a = 0; a < G_N_ELEMENTS (big); a++)
    for (gsize b = 0; b < G_N_ELEMENTS (big); b++)
      {
        guintptr sa = (guintptr) lf_array_get_data (leaves[big[a]]);
        guintptr sb = (guintptr) lf_array_get_data (leaves[big[b]]);
        guintptr ea = sa + lf_array_get_n_bytes (leaves[big[a]]) - 1;
        ck_assert (a == b || ea / 4096 < sb / 4096
                   || (sb + lf_array_get_n_bytes (leaves[big[b]]) - 1) / 4096 < sa / 4096);
      }
  const gsize order[N] = { 3, 0, 5, 2, 6, 1, 4 };
  for (gsize k = 0; k < N; k++)
    {
      for (gsize j = k; j < N; j++)
        ck_assert (lf_tree_equal (leaves[order[j]], lf_node_get_child (tree, order[j])));
      lf_node_unref (leaves[order[k]]);
    }
  g_unsetenv ("LEAFIO_BUFFER_POOL_MB");
}
END_TEST

static glong
minor_faults (void)
{
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

/* Leaves of a few KiB to 256 KiB are read into slabs that the pool
 * recycles: a second load of such a tree overwrites every byte and takes
 * almost no page fault (the heap gave a freed tree's memory back to the
 * kernel, and the next load faulted all of it in again). */
START_TEST (test_middle_reads_recycled)
{
  enum { N = 120 };
  LfNode *items[N];
  gsize total = 0;
  for (gsize i = 0; i < N; i++)
    {
      gsize n = 4096 + (i * 7919) % (240 << 10);
      items[i] = patterned (LF_DTYPE_UINT8, n, (guint) i);
      total += n;
    }
  g_autoptr (LfNode) tree = lf_list_new (N, items);
  for (gsize i = 0; i < N; i++)
    lf_node_unref (items[i]);
  g_autoptr (LfNode) like = abstract_like (tree);
  g_autofree char *file = saved (tree, "middle.eqx");

  LfNode *first = load (file, like, NULL, LF_LOAD_DEFAULT);
  ck_assert (lf_tree_equal (first, tree));
  for (gsize i = 0; i < N; i++)
    {
      LfNode *leaf = lf_node_get_child (first, i);
      memset ((gpointer) lf_array_get_data (leaf), 0xEE, lf_array_get_n_bytes (leaf));
    }
  lf_node_unref (first);

  glong before = minor_faults ();
  g_autoptr (LfNode) again = load (file, like, NULL, LF_LOAD_DEFAULT);
  glong faults = minor_faults () - before;
  ck_assert (lf_tree_equal (again, tree));
  /* valgrind's own memory faults too. */
  if (!RUNNING_ON_VALGRIND)
    ck_assert_msg (faults < (glong) (total / 4096 / 4), "%ld page faults reloading %"
                   G_GSIZE_FORMAT " bytes", faults, total);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("fastpath");
  TCase *tc = tcase_create ("load");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_read_and_mmap_agree_numpy_layout);
  tcase_add_test (tc, test_misaligned_slices_are_copied);
  tcase_add_test (tc, test_big_record_truncated);
  tcase_add_test (tc, test_header_cache);
  tcase_add_test (tc, test_read_buffers_recycled);
  tcase_add_test (tc, test_arena_pieces_freed_alone);
  tcase_add_test (tc, test_middle_reads_recycled);
  suite_add_tcase (suite, tc);
  /* Its own case: interop-align.sh runs it alone to get a file for numpy. */
  tc = tcase_create ("align");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_align64_zero_copy);
  suite_add_tcase (suite, tc);
  tc = tcase_create ("save");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_writers_agree);
  tcase_add_test (tc, test_writev_error);
  tcase_add_test (tc, test_synced_save_writes_behind);
  suite_add_tcase (suite, tc);
  return suite;
}
