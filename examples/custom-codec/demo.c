/* Loads the int8-affine plugin by name from a directory, saves a weight
 * matrix with it and loads it back.
 *
 *   ./demo PLUGIN_DIR [FILE] */
#include <math.h>
#include <stdio.h>

#include <leafio/leafio.h>

static gboolean
run (const char *dir, const char *file, double *worst, GError **error)
{
  /* A registry of our own, filled from the directory: int8-affine.so. */
  g_autoptr (LfRegistry) registry = lf_registry_new ();
  if (!lf_registry_load_directory (registry, dir, error))
    return FALSE;
  g_autoptr (LfCodec) codec = lf_registry_resolve (registry, "int8-affine", error);
  if (codec == NULL)
    return FALSE;
  g_autoptr (LfSpec) spec = lf_spec_new_codec (codec);

  gsize shape[] = { 16, 8 };
  float *w = g_new (float, 16 * 8);
  for (int i = 0; i < 16 * 8; i++)
    w[i] = (float) sin (i * 0.37) * 0.5f;
  g_autoptr (LfNode) model = lf_struct_new_take ("Linear",
      "weight", lf_array_new_take (LF_DTYPE_FLOAT32, 2, shape, w),
      "name", lf_opaque_new ("str", "linear", NULL), NULL);

  if (!lf_tree_serialise_leaves (file, model, spec, NULL, NULL, error))
    return FALSE;
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (file, model, spec, NULL, NULL, error);
  if (loaded == NULL)
    return FALSE;

  const float *a = lf_array_get_data (lf_struct_lookup (model, "weight"));
  const float *b = lf_array_get_data (lf_struct_lookup (loaded, "weight"));
  *worst = 0;
  for (int i = 0; i < 16 * 8; i++)
    *worst = MAX (*worst, fabs (a[i] - b[i]));
  printf ("int8-affine: %d values, largest error %.5f\n", 16 * 8, *worst);
  return TRUE;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  double worst;

  if (!run (argc > 1 ? argv[1] : ".", argc > 2 ? argv[2] : "demo.eqx", &worst, &error))
    {
      fprintf (stderr, "demo: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  /* One step of the quantiser is (max - min) / 255 = 1/255 here. */
  return worst <= 0.5 / 255 + 1e-6 ? 0 : 1;
}
