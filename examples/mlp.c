/* The main example: save an MLP's leaves, load them into a shape-only
 * `like`, then put back the original last layer (model surgery), as the
 * Equinox serialisation docs do.
 *
 *   mlp [FILE]     (default: a temporary file, removed at the end) */
#include <stdio.h>
#include <glib/gstdio.h>
#include <leafio/leafio.h>

#define IN 2
#define WIDTH 4
#define OUT 2

/* eqx.nn.Linear: weight (out, in) and bias (out,). */
static LfNode *
linear (gsize in, gsize out, float start, gboolean abstract)
{
  gsize wshape[2] = { out, in }, bshape[1] = { out };
  if (abstract)
    return lf_struct_new_take ("Linear",
                               "weight", lf_array_new_abstract (LF_DTYPE_FLOAT32, 2, wshape),
                               "bias", lf_array_new_abstract (LF_DTYPE_FLOAT32, 1, bshape),
                               NULL);
  float *w = g_new (float, in * out), *b = g_new (float, out);
  for (gsize i = 0; i < in * out; i++)
    w[i] = start + 0.5f * (float) i;
  for (gsize i = 0; i < out; i++)
    b[i] = -start - (float) i;
  return lf_struct_new_take ("Linear",
                             "weight", lf_array_new_take (LF_DTYPE_FLOAT32, 2, wshape, w),
                             "bias", lf_array_new_take (LF_DTYPE_FLOAT32, 1, bshape, b),
                             NULL);
}

static float
relu (float x)
{
  return x > 0 ? x : 0;
}

/* An MLP: three Linear layers and an activation function (not saved). */
static LfNode *
mlp (float start, gboolean abstract)
{
  LfNode *layers = lf_list_new_take (3, linear (IN, WIDTH, start, abstract),
                                     linear (WIDTH, WIDTH, start + 1, abstract),
                                     linear (WIDTH, OUT, start + 2, abstract));
  return lf_struct_new_take ("MLP", "layers", layers,
                             "activation", lf_opaque_new ("function", (gpointer) relu, NULL),
                             NULL);
}

static gboolean
print_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  g_autofree char *where = lf_path_to_string (path);
  if (lf_node_get_kind (leaf) != LF_NODE_ARRAY)
    {
      printf ("  %-22s %s\n", where, lf_node_kind_name (lf_node_get_kind (leaf)));
      return TRUE;
    }
  g_autofree char *shape = lf_shape_to_string (lf_array_get_ndim (leaf), lf_array_get_shape (leaf));
  const float *data = lf_array_get_data (leaf);
  printf ("  %-22s %s %s, first value %g\n", where, lf_dtype_name (lf_array_get_dtype (leaf)),
          shape, data != NULL ? data[0] : 0.0f);
  return TRUE;
}

/* Saves, loads, and does the surgery; FALSE with `error` set on failure. */
static gboolean
run (const char *path, GError **error)
{
  g_autoptr (LfNode) model = mlp (1.0f, FALSE);
  printf ("model (%zu leaves):\n", lf_tree_count_leaves (model, NULL, NULL));
  lf_tree_foreach_leaf (model, NULL, NULL, print_leaf, NULL);

  if (!lf_tree_serialise_leaves (path, model, NULL, NULL, NULL, error))
    return FALSE;
  g_autofree char *file = lf_path_with_eqx_suffix (path);
  GStatBuf st;
  if (g_stat (file, &st) == 0)
    printf ("saved %s: %lld bytes, one numpy record per array (the activation is not saved)\n",
            file, (long long) st.st_size);

  /* filter_eval_shape: a like with shapes and dtypes only, no data. */
  g_autoptr (LfNode) like = mlp (0.0f, TRUE);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (path, like, NULL, NULL, NULL, error);
  if (loaded == NULL)
    return FALSE;
  printf ("loaded into a shape-only like: %s\n",
          lf_tree_equal (loaded, model) ? "equal to the saved model" : "DIFFERENT");

  /* Model surgery: keep everything loaded except the last layer, which
   * comes from another model. */
  g_autoptr (LfNode) other = mlp (10.0f, FALSE);
  g_autoptr (LfPath) last = lf_path_parse (".layers[-1]", error);
  LfNode *other_last = last != NULL ? lf_tree_get (other, last, error) : NULL;
  if (other_last == NULL)
    return FALSE;
  g_autoptr (LfNode) partial = lf_tree_at (loaded, last, other_last, error);
  if (partial == NULL)
    return FALSE;
  printf ("after lf_tree_at (loaded, .layers[-1], other model's last layer):\n");
  lf_tree_foreach_leaf (partial, NULL, NULL, print_leaf, NULL);
  if (g_getenv ("MLP_KEEP") == NULL && g_str_has_prefix (file, g_get_tmp_dir ()))
    g_unlink (file);
  return TRUE;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  g_autofree char *tmpdir = NULL;
  g_autofree char *path = NULL;
  if (argc > 1)
    path = g_strdup (argv[1]);
  else if ((tmpdir = g_dir_make_tmp ("leafio-mlp-XXXXXX", &error)) != NULL)
    path = g_build_filename (tmpdir, "model", NULL); /* ".eqx" is added */

  gboolean ok = path != NULL && run (path, &error);
  if (tmpdir != NULL)
    g_rmdir (tmpdir);
  if (!ok)
    {
      fprintf (stderr, "mlp: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  return 0;
}
