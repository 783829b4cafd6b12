/* Helper of interop-float16.py and interop-compressed.py: saves one tree twice, with `npy` to SRC and
 * with the codec reference REF to OUT, so the script can compare numpy's
 * reading of OUT with numpy's own conversion of SRC.
 *
 *   codec-save REF SRC OUT */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <leafio/leafio.h>

static LfNode *
make_tree (void)
{
  static const guint32 f32_bits[] = {
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xff802000,
    0x477fe000, 0x477ff000, 0x477fefff, 0x33000000, 0x33000001, 0x33c00000, 0x387fe000,
    0x3f801000, 0x3f803000, 0x3dcccccd, 0xbf800000, 0x00000001, 0x7f7fffff,
  };
  float f32[G_N_ELEMENTS (f32_bits)];
  memcpy (f32, f32_bits, sizeof f32);
  double f64[] = { 0.1, -2.5, 65504.0, 65519.99999, 1e-7, 5.960464477539063e-08,
                   2.9802322387695312e-08, 2.9802322387695316e-08, 3.0, NAN, -INFINITY, 1e300 };
  guint16 bf16[] = { 0x3f80, 0x4049, 0xc2f7, 0x7f80, 0x0001, 0x477f, 0x7fc1, 0x8000 };
  gint32 i32[] = { 1, -2, 3, 70000 };
  guint16 f16[] = { 0x3c00, 0x7bff, 0x0001 };
  GRand *rand = g_rand_new_with_seed (7);
  gsize big_shape[] = { 64, 33 };
  float *big = g_new (float, 64 * 33);
  for (gsize i = 0; i < 64 * 33; i++)
    big[i] = (float) g_rand_double_range (rand, -3.0, 3.0) * (float) pow (10.0, g_rand_int_range (rand, -9, 6));
  /* Big enough (5 MiB) for the codecs' streamed and two-thread paths. */
  gsize n_large = (5u << 20) / 4;
  float *large = g_new (float, n_large);
  for (gsize i = 0; i < n_large; i++)
    large[i] = (float) g_rand_int_range (rand, -400, 400) * 0.125f;
  g_rand_free (rand);

  gsize n32 = G_N_ELEMENTS (f32), n64 = G_N_ELEMENTS (f64), nbf = G_N_ELEMENTS (bf16);
  gsize n_i = G_N_ELEMENTS (i32), n16 = G_N_ELEMENTS (f16);
  gsize shape2[] = { 2, n32 / 2 };
  return lf_dict_new_take (
      "a", lf_array_new_copy (LF_DTYPE_FLOAT32, 2, shape2, f32),
      "b", lf_array_new_copy (LF_DTYPE_FLOAT64, 1, &n64, f64),
      "c", lf_array_new_copy (LF_DTYPE_BFLOAT16, 1, &nbf, bf16),
      "d", lf_array_new_copy (LF_DTYPE_INT32, 1, &n_i, i32),
      "e", lf_scalar_new_float (0.1),
      "f", lf_array_new_copy (LF_DTYPE_FLOAT16, 1, &n16, f16),
      "g", lf_array_new_take (LF_DTYPE_FLOAT32, 2, big_shape, big),
      "h", lf_array_new_zeros (LF_DTYPE_FLOAT32, 0, NULL),
      "i", lf_array_new_take (LF_DTYPE_FLOAT32, 1, &n_large, large),
      NULL);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;

  if (argc != 4)
    {
      fprintf (stderr, "usage: %s REF SRC OUT\n", argv[0]);
      return 2;
    }
  g_autoptr (LfNode) tree = make_tree ();
  g_autoptr (LfSpec) npy = lf_spec_new_for_reference (NULL, "npy", &error);
  g_autoptr (LfSpec) spec = npy ? lf_spec_new_for_reference (NULL, argv[1], &error) : NULL;
  if (spec == NULL
      || !lf_tree_serialise_leaves (argv[2], tree, npy, NULL, NULL, &error)
      || !lf_tree_serialise_leaves (argv[3], tree, spec, NULL, NULL, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      g_error_free (error);
      return 1;
    }
  return 0;
}
