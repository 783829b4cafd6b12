/* Shared by the fuzz targets and the seed writer: start-up (fatal GLib
 * criticals, a registry of the plugins built beside the target) and the
 * fixed mixed tree the load targets deserialise into. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The npy header target parses into LfNpyHeader (<leafio/unstable.h>). */
#define LEAFIO_UNSTABLE_API
#include <leafio/leafio.h>

/* A critical or warning on any input is a bug (a precondition reached from
 * data, or a message the library should have turned into a GError). */
static void
fuzz_log_handler (const char *domain, GLogLevelFlags level, const char *message,
                  gpointer user_data)
{
  (void) user_data;
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      fprintf (stderr, "fuzz: unexpected log message: %s: %s\n", domain ? domain : "",
               message);
      abort ();
    }
}

/* Aborts with the message: libFuzzer saves the input as a crash. */
#define FUZZ_CHECK(cond, ...)                                                   \
  do {                                                                          \
    if (!(cond))                                                                \
      {                                                                         \
        fprintf (stderr, "fuzz: check failed: %s: ", #cond);                    \
        fprintf (stderr, __VA_ARGS__);                                          \
        fputc ('\n', stderr);                                                   \
        abort ();                                                               \
      }                                                                         \
  } while (0)

/* Every error must be ours, with a known code and a message. */
static inline void
fuzz_check_error (const GError *error)
{
  FUZZ_CHECK (error != NULL, "failure without a GError");
  FUZZ_CHECK (error->domain == LF_ERROR, "domain %s: %s",
              g_quark_to_string (error->domain), error->message);
  FUZZ_CHECK (error->code >= LF_ERROR_FAILED && error->code <= LF_ERROR_TOO_LARGE,
              "code %d", error->code);
  FUZZ_CHECK (error->message != NULL && error->message[0] != '\0', "empty message");
}

/* The plugins directory beside the executable (run.sh builds them there),
 * or LF_FUZZ_PLUGIN_DIR. */
static inline char *
fuzz_plugin_dir (void)
{
  const char *env = g_getenv ("LF_FUZZ_PLUGIN_DIR");
  if (env != NULL)
    return g_strdup (env);
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = g_path_get_dirname (exe != NULL ? exe : ".");
  return g_build_filename (dir, "plugins", NULL);
}

/* Fatal criticals and a registry of the built plugins; aborts when a plugin
 * fails to load (the target would fuzz less than it claims). */
static inline LfRegistry *
fuzz_init (void)
{
  g_log_set_default_handler (fuzz_log_handler, NULL);
  g_log_set_handler ("leafio", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, fuzz_log_handler, NULL);
  g_log_set_handler ("GLib", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL, fuzz_log_handler, NULL);
  LfRegistry *registry = lf_registry_new ();
  g_autofree char *dir = fuzz_plugin_dir ();
  GError *error = NULL;
  if (!lf_registry_load_directory (registry, dir, &error))
    {
      fprintf (stderr, "fuzz: %s\n", error->message);
      abort ();
    }
  GPtrArray *errors = lf_registry_get_load_errors (registry);
  if (errors->len > 0)
    {
      fprintf (stderr, "fuzz: %s\n", ((GError *) errors->pdata[0])->message);
      abort ();
    }
  return registry;
}

/* ---- the fixed `like` tree --------------------------------------------------- */

static inline LfNode *
fuzz_array (LfDType dtype, guint ndim, const gsize *shape, gboolean with_data, int seed)
{
  gsize n_bytes = 0;
  lf_shape_n_bytes (dtype, ndim, shape, &n_bytes);
  if (!with_data)
    return lf_array_new_abstract (dtype, ndim, shape);
  guint8 *data = g_malloc (n_bytes ? n_bytes : 1);
  for (gsize i = 0; i < n_bytes; i++)
    data[i] = (guint8) (i * 37 + (gsize) seed * 11 + 3);
  /* Values every codec stores exactly: small integers and halves. */
  gsize n = n_bytes / (lf_dtype_size (dtype) ? lf_dtype_size (dtype) : 1);
  for (gsize i = 0; i < n; i++)
    switch (dtype)
      {
      case LF_DTYPE_BOOL:
        data[i] = (guint8) ((i + (gsize) seed) & 1);
        break;
      case LF_DTYPE_FLOAT32:
        ((float *) data)[i] = (float) ((double) i - 2.5 + seed);
        break;
      case LF_DTYPE_FLOAT64:
        ((double *) data)[i] = (double) i * 0.5 - (double) seed;
        break;
      case LF_DTYPE_COMPLEX64:
        ((float *) data)[i] = (float) i + 0.25f;
        break;
      case LF_DTYPE_COMPLEX128:
        ((double *) data)[i] = (double) i - 0.75;
        break;
      case LF_DTYPE_FLOAT16:
        ((guint16 *) data)[i] = (guint16) (0x3c00 + (i << 8)); /* 1.0, 1.25, ... */
        break;
      case LF_DTYPE_BFLOAT16:
        ((guint16 *) data)[i] = (guint16) (0x3f80 + (i << 4));
        break;
      default:
        break;
      }
  return lf_array_new_take (dtype, ndim, shape, data);
}

/* A struct of arrays of most dtypes (some abstract in `like`, as
 * filter_eval_shape gives), a zero-size and a 0-d array, Python and numpy
 * scalars, an opaque leaf, none and a dict: 17 records. */
static inline LfNode *
fuzz_tree (gboolean with_data)
{
  static const struct { LfDType dtype; guint ndim; gsize shape[3]; } arrays[] = {
    { LF_DTYPE_FLOAT32, 2, { 3, 2 } },  { LF_DTYPE_FLOAT64, 1, { 4 } },
    { LF_DTYPE_FLOAT16, 2, { 2, 2 } },  { LF_DTYPE_BFLOAT16, 1, { 3 } },
    { LF_DTYPE_INT8, 1, { 5 } },        { LF_DTYPE_UINT16, 1, { 2 } },
    { LF_DTYPE_INT64, 1, { 2 } },       { LF_DTYPE_COMPLEX64, 1, { 2 } },
    { LF_DTYPE_COMPLEX128, 1, { 1 } },  { LF_DTYPE_BOOL, 1, { 4 } },
    { LF_DTYPE_FLOAT32, 2, { 2, 0 } },  { LF_DTYPE_FLOAT32, 0, { 0 } },
  };
  LfNode *items[G_N_ELEMENTS (arrays)];
  for (gsize i = 0; i < G_N_ELEMENTS (arrays); i++)
    items[i] = fuzz_array (arrays[i].dtype, arrays[i].ndim, arrays[i].shape,
                           with_data || i % 2 == 1, (int) i);
  LfNode *list = lf_list_new (G_N_ELEMENTS (arrays), items);
  for (gsize i = 0; i < G_N_ELEMENTS (arrays); i++)
    lf_node_unref (items[i]);
  float f = with_data ? 2.5f : 0.0f;
  return lf_struct_new_take (
      "Model", "arrays", list,
      "scalars", lf_tuple_new_take (4, lf_scalar_new_bool (with_data),
                                    lf_scalar_new_int (with_data ? -3 : 0),
                                    lf_scalar_new_float (with_data ? 0.25 : 0),
                                    lf_scalar_new (LF_DTYPE_FLOAT32, &f)),
      "extra", lf_dict_new_take ("a", lf_opaque_new ("fn", NULL, NULL),
                                 "b", lf_none_new (),
                                 "c", lf_scalar_new_complex (1, with_data ? -2 : 0), NULL),
      NULL);
}

/* For the spec parsers' targets: a spec that parsed saves `tree` to memory
 * or fails cleanly, and what it saved loads back into `like` with it. */
static inline void
fuzz_check_spec_round_trip (LfSpec *spec, LfNode *tree, LfNode *like)
{
  GError *error = NULL;
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  if (!lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error))
    {
      fuzz_check_error (error);
      g_clear_error (&error);
      return;
    }
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL, NULL,
                                                                    &error);
  if (back == NULL && g_error_matches (error, LF_ERROR, LF_ERROR_SPEC))
    {
      /* The spec leaves an abstract leaf of `like` unloaded, which a load
       * refuses; into the concrete tree (the same structure) it loads. */
      g_clear_error (&error);
      g_clear_pointer (&in, lf_stream_free);
      in = lf_stream_new_for_bytes (bytes);
      back = lf_tree_deserialise_leaves_from_stream (in, tree, spec, NULL, NULL, &error);
    }
  FUZZ_CHECK (back != NULL, "saved with a spec, not loaded back with it: %s", error->message);
  gboolean at_end = FALSE;
  FUZZ_CHECK (lf_stream_at_end (in, &at_end, NULL) && at_end, "load left bytes unread");
}
