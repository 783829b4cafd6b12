/* Helper of interop-float16.py: converts raw native-endian values from
 * stdin to stdout with one implementation, so the script can compare each
 * path with numpy bit for bit.
 *
 *   f16-convert portable|f16c f32-f16|f16-f32|f64-f16|f16-f64 < in > out
 *
 * Exits 77 when the CPU lacks the requested implementation. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <leafio/leafio.h>

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: %s portable|f16c f32-f16|f16-f32|f64-f16|f16-f64\n", argv[0]);
      return 2;
    }
  LfConvertImpl impl = strcmp (argv[1], "f16c") == 0 ? LF_CONVERT_IMPL_F16C
                                                     : LF_CONVERT_IMPL_PORTABLE;
  if (!lf_convert_set_impl (impl))
    {
      fprintf (stderr, "%s: this CPU has no %s\n", argv[0], argv[1]);
      return 77;
    }

  GByteArray *in = g_byte_array_new ();
  guint8 chunk[65536];
  size_t got;
  while ((got = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    g_byte_array_append (in, chunk, (guint) got);

  const char *mode = argv[2];
  gsize in_size, out_size;
  if (strcmp (mode, "f32-f16") == 0)
    in_size = 4, out_size = 2;
  else if (strcmp (mode, "f16-f32") == 0)
    in_size = 2, out_size = 4;
  else if (strcmp (mode, "f64-f16") == 0)
    in_size = 8, out_size = 2;
  else if (strcmp (mode, "f16-f64") == 0)
    in_size = 2, out_size = 8;
  else
    {
      fprintf (stderr, "%s: unknown mode %s\n", argv[0], mode);
      return 2;
    }

  gsize n = in->len / in_size;
  gpointer out = g_malloc (n * out_size + 1);
  if (in_size == 4)
    lf_convert_f32_to_f16 ((const float *) in->data, out, n);
  else if (in_size == 8)
    lf_convert_f64_to_f16 ((const double *) in->data, out, n);
  else if (out_size == 4)
    lf_convert_f16_to_f32 ((const guint16 *) in->data, out, n);
  else
    lf_convert_f16_to_f64 ((const guint16 *) in->data, out, n);

  int status = fwrite (out, out_size, n, stdout) == n ? 0 : 1;
  g_free (out);
  g_byte_array_unref (in);
  return status;
}
