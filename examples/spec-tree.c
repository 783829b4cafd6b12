/* A spec tree with codecs looked up by name: weights saved as float16,
 * biases as npy, then loaded back into a shape-only like.
 *
 *   spec-tree OUT.eqx
 *
 * Codecs are plugins found by name in the default registry (the installed
 * plugin directory and LEAFIO_PLUGIN_PATH); a reference may carry options,
 * "compressed(level=19, inner=float16)". */
#include <stdio.h>
#include <leafio/leafio.h>

static LfNode *
linear (gsize out, gsize in, float value)
{
  gsize shape[2] = { out, in };
  float *weight = g_new (float, out * in);
  for (gsize i = 0; i < out * in; i++)
    weight[i] = value + (float) i / 8;
  return lf_struct_new_take ("Linear",
                             "weight", lf_array_new_take (LF_DTYPE_FLOAT32, 2, shape, weight),
                             "bias", lf_array_new_zeros (LF_DTYPE_FLOAT32, 1, &shape[0]),
                             NULL);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: spec-tree OUT.eqx\n");
      return 2;
    }
  GError *error = NULL;
  g_autoptr (LfNode) model = lf_list_new_take (2, linear (4, 2, 1), linear (2, 4, -1));

  /* Codecs by name (a reference: "float16", "npy(align=64)", ...). */
  LfRegistry *registry = lf_registry_get_default ();
  g_autoptr (LfCodec) f16 = lf_registry_resolve (registry, "float16", &error);
  g_autoptr (LfCodec) npy = f16 != NULL ? lf_registry_resolve (registry, "npy", &error) : NULL;
  if (npy == NULL)
    {
      fprintf (stderr, "spec-tree: %s\n", error->message);
      return 1;
    }
  /* A prefix of the model: each Linear's weight as float16, its bias as npy. */
  LfNode *layer = lf_struct_new_take ("Linear", "weight", lf_spec_leaf_new (f16),
                                      "bias", lf_spec_leaf_new (npy), NULL);
  g_autoptr (LfNode) spec_tree = lf_list_new_take (2, layer, lf_node_ref (layer));
  g_autoptr (LfSpec) spec = lf_spec_new_tree (spec_tree, &error);
  if (spec == NULL
      || !lf_tree_serialise_leaves (argv[1], model, spec, NULL, NULL, &error))
    {
      fprintf (stderr, "spec-tree: %s\n", error->message);
      return 1;
    }

  /* Loading takes the same spec: float16 records come back as float32. */
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (argv[1], model, spec, NULL, NULL,
                                                          &error);
  if (loaded == NULL)
    {
      fprintf (stderr, "spec-tree: %s\n", error->message);
      return 1;
    }
  g_autoptr (LfPath) path = lf_path_parse ("[1].weight", &error);
  LfNode *weight = path != NULL ? lf_tree_get (loaded, path, &error) : NULL;
  if (weight == NULL)
    {
      fprintf (stderr, "spec-tree: %s\n", error->message);
      return 1;
    }
  printf ("saved %s: weights as float16, biases as npy; loaded [1].weight: %s, first value %g\n",
          argv[1], lf_dtype_name (lf_array_get_dtype (weight)),
          ((const float *) lf_array_get_data (weight))[0]);
  return 0;
}
