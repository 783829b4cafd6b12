/* leafio-bench: times lf_tree_serialise_leaves / lf_tree_deserialise_leaves
 * on the workloads of ../shared/bench/make_trees.py, in the same terms as
 * numpy_peer.py (one line per rep, in-process timer, data built first).
 *
 *   leafio-bench save WORKLOAD DATADIR OUT [--reps N] [--codec REF] [--sync]
 *       Builds WORKLOAD's tree from DATADIR/WORKLOAD.json (paths, dtypes,
 *       shapes) with each leaf's data read from DATADIR/WORKLOAD.eqx into
 *       its own buffer (untimed), then REPS times: unlink OUT (untimed) and
 *       time lf_tree_serialise_leaves_full (temporary file + rename; no
 *       fsync unless --sync, as numpy and limits.c do not sync).  With the
 *       default codec OUT must be byte-identical to the numpy stream: its
 *       SHA-256 is checked against the manifest after the last rep.
 *   leafio-bench load WORKLOAD DATADIR IN [--reps N] [--codec REF] [--mmap]
 *                [--verify]
 *       Times lf_tree_deserialise_leaves_full into an abstract `like` (dtype
 *       and shape only, as jax.ShapeDtypeStruct).  --mmap uses LF_LOAD_MMAP.
 *       --verify compares every loaded leaf with the manifest stream's bytes
 *       afterwards (untimed; only for lossless codecs).
 *
 * Output, one line per rep:
 *   save large 0.1712 s 2907.5 MB/s 148 leaves 497778176 B 1156.76 us/leaf rep 2/5
 * then "rss save large 512.3 MB" (peak resident set of the process). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include <leafio/leafio.h>

typedef struct {
  LfPath *path;
  LfDType dtype;
  guint ndim;
  gsize shape[LF_MAX_NDIM];
  guint64 data_offset;  /* first data byte in the numpy stream */
  gsize data_bytes;
} Entry;

typedef struct {
  GArray *entries;      /* Entry */
  char *sha256;
  guint64 stream_bytes;
} Manifest;

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static G_NORETURN void
die (const char *what, GError *error)
{
  fprintf (stderr, "leafio-bench: %s: %s\n", what, error ? error->message : g_strerror (errno));
  exit (1);
}

static Manifest *
manifest_load (const char *file)
{
  GError *error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, file, &error))
    die (file, error);
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  Manifest *m = g_new0 (Manifest, 1);
  m->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  m->sha256 = g_strdup (json_object_get_string_member (root, "stream_sha256"));
  m->stream_bytes = (guint64) json_object_get_int_member (root, "stream_bytes");
  JsonArray *leaves = json_object_get_array_member (root, "leaves");
  for (guint i = 0; i < json_array_get_length (leaves); i++)
    {
      JsonObject *o = json_array_get_object_element (leaves, i);
      Entry e = { 0 };
      e.path = lf_path_parse (json_object_get_string_member (o, "path"), &error);
      if (e.path == NULL)
        die (file, error);
      e.dtype = lf_dtype_from_name (json_object_get_string_member (o, "dtype_name"));
      JsonArray *shape = json_object_get_array_member (o, "shape");
      e.ndim = json_array_get_length (shape);
      for (guint k = 0; k < e.ndim; k++)
        e.shape[k] = (gsize) json_array_get_int_element (shape, k);
      e.data_offset = (guint64) json_object_get_int_member (o, "offset")
                      + (guint64) json_object_get_int_member (o, "header_bytes");
      e.data_bytes = (gsize) json_object_get_int_member (o, "data_bytes");
      g_array_append_val (m->entries, e);
    }
  return m;
}

/* Rebuilds the nested containers from the leaves' keystr paths: consecutive
 * leaves sharing a key at `depth` belong to the same child.  Index keys make
 * lists, field keys structs (eqx.Module), dict keys dicts. */
static LfNode *
build_level (Manifest *m, LfNode **leaves, guint start, guint end, guint depth)
{
  Entry *first = &g_array_index (m->entries, Entry, start);
  if (lf_path_get_length (first->path) == depth)
    return lf_node_ref (leaves[start]);
  LfKeyKind kind = lf_path_get_kind (first->path, depth);
  g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  guint i = start;
  while (i < end)
    {
      Entry *e = &g_array_index (m->entries, Entry, i);
      guint j = i + 1;
      for (; j < end; j++)
        {
          Entry *f = &g_array_index (m->entries, Entry, j);
          gboolean same = kind == LF_KEY_INDEX
              ? lf_path_get_index (f->path, depth) == lf_path_get_index (e->path, depth)
              : strcmp (lf_path_get_name (f->path, depth), lf_path_get_name (e->path, depth)) == 0;
          if (!same)
            break;
        }
      g_ptr_array_add (names, (gpointer) (kind == LF_KEY_INDEX ? NULL
                                                                : lf_path_get_name (e->path, depth)));
      g_ptr_array_add (children, build_level (m, leaves, i, j, depth + 1));
      i = j;
    }
  LfNode **items = (LfNode **) children->pdata;
  switch (kind)
    {
    case LF_KEY_INDEX:
      return lf_list_new (children->len, items);
    case LF_KEY_FIELD:
      return lf_struct_new ("Module", children->len, (const char *const *) names->pdata, items);
    default:
      return lf_dict_new (children->len, (const char *const *) names->pdata, items);
    }
}

static LfNode *
build_tree (Manifest *m, LfNode **leaves)
{
  return build_level (m, leaves, 0, m->entries->len, 0);
}

/* Each leaf's data in its own buffer (as numpy arrays are), read straight
 * from the stream so that peak memory is the data, not data + file. */
static LfNode **
make_leaves (Manifest *m, const char *stream_file, gboolean abstract)
{
  LfNode **leaves = g_new0 (LfNode *, m->entries->len);
  int fd = abstract ? -1 : open (stream_file, O_RDONLY);
  if (!abstract && fd < 0)
    die (stream_file, NULL);
  for (guint i = 0; i < m->entries->len; i++)
    {
      Entry *e = &g_array_index (m->entries, Entry, i);
      if (abstract)
        {
          leaves[i] = lf_array_new_abstract (e->dtype, e->ndim, e->shape);
          continue;
        }
      guint8 *data = g_malloc (MAX (e->data_bytes, 1));
      if (e->data_bytes > 0 && pread (fd, data, e->data_bytes, (off_t) e->data_offset)
                                   != (ssize_t) e->data_bytes)
        die (stream_file, NULL);
      leaves[i] = lf_array_new_take (e->dtype, e->ndim, e->shape, data);
    }
  if (fd >= 0)
    close (fd);
  return leaves;
}

static void
free_leaves (Manifest *m, LfNode **leaves)
{
  for (guint i = 0; i < m->entries->len; i++)
    lf_node_unref (leaves[i]);
  g_free (leaves);
}

static char *
file_sha256 (const char *file)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  int fd = open (file, O_RDONLY);
  if (fd < 0)
    die (file, NULL);
  static guint8 buf[1 << 20];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_checksum_update (sum, buf, (gssize) n);
  close (fd);
  return g_strdup (g_checksum_get_string (sum));
}

static guint64
file_size (const char *file)
{
  struct stat st;
  return stat (file, &st) == 0 ? (guint64) st.st_size : 0;
}

static void
report (const char *op, const char *name, double t, guint64 nbytes, guint nleaves, int rep,
        int reps)
{
  printf ("%s %s %.4f s %.1f MB/s %u leaves %" G_GUINT64_FORMAT " B %.3f us/leaf rep %d/%d\n",
          op, name, t, nbytes / t / 1e6, nleaves, nbytes, t / nleaves * 1e6, rep, reps);
  fflush (stdout);
}

static void
report_rss (const char *op, const char *name)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("rss %s %s %.1f MB\n", op, name, ru.ru_maxrss * 1024.0 / 1e6);
}

/* Every leaf of `tree`, in order, against the numpy stream's bytes. */
typedef struct {
  Manifest *m;
  int fd;
  guint i;
  guint bad;
} Verify;

static gboolean
verify_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  Verify *v = user_data;
  Entry *e = &g_array_index (v->m->entries, Entry, v->i++);
  g_autofree guint8 *want = g_malloc (MAX (e->data_bytes, 1));
  if (e->data_bytes > 0 && pread (v->fd, want, e->data_bytes, (off_t) e->data_offset)
                               != (ssize_t) e->data_bytes)
    die ("verify", NULL);
  if (lf_array_get_n_bytes (leaf) != e->data_bytes
      || memcmp (lf_array_get_data (leaf), want, e->data_bytes) != 0)
    v->bad++;
  return TRUE;
}

int
main (int argc, char **argv)
{
  int reps = 1;
  const char *codec = NULL;
  gboolean sync = FALSE, mmap_load = FALSE, verify = FALSE;
  GOptionEntry options[] = {
    { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "repetitions", "N" },
    { "codec", 0, 0, G_OPTION_ARG_STRING, &codec, "codec reference", "REF" },
    { "sync", 0, 0, G_OPTION_ARG_NONE, &sync, "fsync before the rename", NULL },
    { "mmap", 0, 0, G_OPTION_ARG_NONE, &mmap_load, "load with LF_LOAD_MMAP", NULL },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &verify, "compare loaded data", NULL },
    { NULL }
  };
  GError *error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("save|load WORKLOAD DATADIR FILE");
  g_option_context_add_main_entries (ctx, options, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 5
      || (strcmp (argv[1], "save") != 0 && strcmp (argv[1], "load") != 0))
    {
      fprintf (stderr, "usage: leafio-bench save|load WORKLOAD DATADIR FILE [--reps N] "
                       "[--codec REF] [--sync] [--mmap] [--verify]\n");
      return 2;
    }
  gboolean saving = strcmp (argv[1], "save") == 0;
  const char *name = argv[2], *file = argv[4];
  g_autofree char *json = g_strdup_printf ("%s/%s.json", argv[3], name);
  g_autofree char *stream = g_strdup_printf ("%s/%s.eqx", argv[3], name);

  Manifest *m = manifest_load (json);
  guint n = m->entries->len;
  g_autoptr (LfSpec) spec = NULL;
  if (codec != NULL && (spec = lf_spec_new_for_reference (NULL, codec, &error)) == NULL)
    die (codec, error);
  LfNode **leaves = make_leaves (m, stream, !saving);
  LfNode *tree = build_tree (m, leaves);
  free_leaves (m, leaves);

  LfNode *out = NULL;
  for (int rep = 1; rep <= reps; rep++)
    {
      if (saving)
        {
          if (unlink (file) != 0 && errno != ENOENT)
            die (file, NULL);
          double t0 = now ();
          if (!lf_tree_serialise_leaves_full (file, tree, spec, NULL, NULL,
                                              sync ? LF_SAVE_DEFAULT : LF_SAVE_NO_SYNC, &error))
            die ("save", error);
          double t1 = now ();
          report ("save", name, t1 - t0, file_size (file), n, rep, reps);
        }
      else
        {
          g_clear_pointer (&out, lf_node_unref);   /* drop the previous tree */
          double t0 = now ();
          out = lf_tree_deserialise_leaves_full (file, tree, spec, NULL, NULL,
                                                 mmap_load ? LF_LOAD_MMAP : LF_LOAD_DEFAULT,
                                                 &error);
          double t1 = now ();
          if (out == NULL)
            die ("load", error);
          report (mmap_load ? "load-mmap" : "load", name, t1 - t0, file_size (file), n, rep,
                  reps);
        }
    }
  report_rss (saving ? "save" : "load", name);

  if (saving && codec == NULL)
    {
      g_autofree char *sum = file_sha256 (file);
      if (strcmp (sum, m->sha256) != 0)
        {
          fprintf (stderr, "leafio-bench: %s differs from numpy's stream (sha256 %s, want %s)\n",
                   file, sum, m->sha256);
          return 1;
        }
      printf ("identical %s numpy stream sha256 %s\n", name, sum);
    }
  if (verify && out != NULL)
    {
      Verify v = { m, open (stream, O_RDONLY), 0, 0 };
      lf_tree_foreach_leaf (out, NULL, NULL, verify_leaf, &v);
      close (v.fd);
      if (v.bad > 0 || v.i != n)
        {
          fprintf (stderr, "leafio-bench: %u of %u leaves differ\n", v.bad, n);
          return 1;
        }
      printf ("verify %s ok\n", name);
    }
  lf_node_unref (out);
  lf_node_unref (tree);
  for (guint i = 0; i < n; i++)
    lf_path_free (g_array_index (m->entries, Entry, i).path);
  g_array_unref (m->entries);
  g_free (m->sha256);
  g_free (m);
  return 0;
}
