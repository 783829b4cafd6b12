/* Helper of interop-skeleton.sh: loads FILE.eqx with the skeleton
 * SKELETON.json as `like` and prints one line a leaf:
 *   PATH<TAB>array<TAB>DTYPE<TAB>SHAPE<TAB>HEX   (data bytes, native order)
 *   PATH<TAB>scalar<TAB>DTYPE<TAB><TAB>HEX
 *   PATH<TAB>opaque<TAB>TYPE
 * so Python can compare values exactly.  Exit status 1 on any error. */
#include <stdio.h>
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

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: %s FILE.eqx SKELETON.json\n", argv[0]);
      return 2;
    }
  GError *error = NULL;
  g_autoptr (LfNode) like = lf_tree_from_json_file (argv[2], &error);
  g_autoptr (LfNode) tree = like != NULL
    ? lf_tree_deserialise_leaves (argv[1], like, NULL, NULL, NULL, &error) : NULL;
  if (tree == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      return 1;
    }
  lf_tree_foreach_leaf (tree, NULL, NULL, print_leaf, NULL);
  return 0;
}
