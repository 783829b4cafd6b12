/* Helper of interop-skeleton.sh: loads FILE.eqx with the skeleton
 * SKELETON.json as `like` and prints one line a leaf:
 *   PATH<TAB>array<TAB>DTYPE<TAB>SHAPE<TAB>HEX   (data bytes, native order)
 *   PATH<TAB>scalar<TAB>DTYPE<TAB><TAB>HEX
 *   PATH<TAB>opaque<TAB>TYPE
 * so Python can compare values exactly.  Exit status 1 on any error.
 * With --random-access the file is opened with lf_file_open and each leaf
 * read alone; --read-one reads one leaf (see read_one). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <leafio/leafio.h>

static void
print_hex (gconstpointer data, gsize size)
{
  const guint8 *bytes = data;
  for (gsize i = 0; i < size; i++)
    printf ("%02x", bytes[i]);
}

static gboolean
print_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  g_autofree char *where = lf_path_to_string (path);
  switch (lf_node_get_kind (leaf))
    {
    case LF_NODE_ARRAY:
      {
        g_autofree char *shape = lf_shape_to_string (lf_array_get_ndim (leaf),
                                                     lf_array_get_shape (leaf));
        printf ("%s\tarray\t%s\t%s\t", where, lf_dtype_name (lf_array_get_dtype (leaf)),
                shape);
        if (lf_array_is_abstract (leaf))
          printf ("abstract");
        else
          print_hex (lf_array_get_data (leaf), lf_array_get_n_bytes (leaf));
        break;
      }
    case LF_NODE_SCALAR:
      printf ("%s\tscalar\t%s\t\t", where, lf_dtype_name (lf_scalar_get_dtype (leaf)));
      print_hex (lf_scalar_get_value (leaf), lf_dtype_size (lf_scalar_get_dtype (leaf)));
      break;
    default:
      printf ("%s\t%s\t%s", where, lf_node_kind_name (lf_node_get_kind (leaf)),
              lf_node_get_kind (leaf) == LF_NODE_OPAQUE ? lf_opaque_get_type_name (leaf) : "");
      break;
    }
  printf ("\n");
  return TRUE;
}

/* --random-access: every leaf read alone through lf_file_open, last first. */
static LfNode *
read_leaf_by_leaf (const char *path, LfNode *like, GError **error)
{
  g_autoptr (LfFile) file = lf_file_open (path, like, NULL, LF_FILE_DEFAULT, error);
  if (file == NULL)
    return NULL;
  gsize n = lf_file_get_n_entries (file);
  g_autoptr (GPtrArray) leaves = g_ptr_array_new_full (n, (GDestroyNotify) lf_node_unref);
  g_ptr_array_set_size (leaves, (guint) n);
  for (gsize i = n; i-- > 0;)
    {
      leaves->pdata[i] = lf_file_read (file, lf_file_get_entry (file, i)->path, error);
      if (leaves->pdata[i] == NULL)
        return NULL;
    }
  return lf_tree_replace_leaves (like, NULL, NULL, (LfNode *const *) leaves->pdata);
}

/* --read-one: prints the record's offset and size, marks the start of the
 * read with access("leafio-read-starts-here") for strace, reads the leaf. */
static LfNode *
read_one (const char *path, LfNode *like, const char *leaf_path, GError **error)
{
  g_autoptr (LfFile) file = lf_file_open (path, like, NULL, LF_FILE_DEFAULT, error);
  const LfFileEntry *entry = file != NULL ? lf_file_lookup (file, leaf_path) : NULL;
  if (entry == NULL)
    {
      if (file != NULL)
        g_set_error (error, LF_ERROR, LF_ERROR_NOT_FOUND, "no leaf %s", leaf_path);
      return NULL;
    }
  printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n", entry->offset, entry->size);
  fflush (stdout);
  (void) access ("leafio-read-starts-here", F_OK);
  return lf_file_read (file, leaf_path, error);
}

int
main (int argc, char **argv)
{
  const char *mode = argc > 1 && g_str_has_prefix (argv[1], "--") ? argv[1] : NULL;
  int first = mode != NULL ? 2 : 1;
  gboolean one = g_strcmp0 (mode, "--read-one") == 0;
  if (argc != first + 2 + (one ? 1 : 0)
      || (mode != NULL && !one && strcmp (mode, "--random-access") != 0))
    {
      fprintf (stderr, "usage: %s [--random-access] FILE.eqx SKELETON.json\n"
               "       %s --read-one FILE.eqx SKELETON.json PATH\n", argv[0], argv[0]);
      return 2;
    }
  GError *error = NULL;
  g_autoptr (LfNode) like = lf_tree_from_json_file (argv[first + 1], &error);
  g_autoptr (LfNode) tree = NULL;
  if (like != NULL && one)
    tree = read_one (argv[first], like, argv[first + 2], &error);
  else if (like != NULL && mode != NULL)
    tree = read_leaf_by_leaf (argv[first], like, &error);
  else if (like != NULL)
    tree = lf_tree_deserialise_leaves (argv[first], like, NULL, NULL, NULL, &error);
  if (tree == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      return 1;
    }
  lf_tree_foreach_leaf (tree, NULL, NULL, print_leaf, NULL);
  return 0;
}
