/* Choosing codecs with a rules file: save a model, load it back.
 *
 * Rules name a codec for each leaf by its keystr path, first match wins:
 *
 *   # every weight matrix
 *   .layers[*].weight = npy
 *   # the cache is rebuilt at start-up: do not store it
 *   .cache* = skip
 *
 * Leaves no rule matches get the default codec (npy).  Strict mode
 * (lf_spec_check_rules_used) refuses a rules file with a rule that matches
 * nothing, which catches typos in paths.
 *
 *   rules [RULES-FILE]   (default: the rules above, written to a temporary
 *                         file; with a file of your own, try codecs such as
 *                         float16 or compressed(level=19) when installed) */
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <leafio/leafio.h>

static const char default_rules[] =
  "# every weight matrix\n"
  ".layers[*].weight = npy\n"
  "# the cache is rebuilt at start-up: do not store it\n"
  ".cache* = skip\n";

/* A codec that stores nothing and loads `like` unchanged, registered from
 * two plain functions (as Equinox accepts any Python function). */
static gboolean
skip_save (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
           GError **error)
{
  return TRUE;
}

static LfNode *
skip_load (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data,
           GError **error)
{
  return lf_node_ref (like);
}

static gboolean
nothing (const LfNode *leaf)
{
  return FALSE;  /* no leaf gets a record */
}

/* A float32 array of `ndim` dims (1 or 2) filled with start, start + 1, ... */
static LfNode *
array (guint ndim, gsize rows, gsize cols, float start)
{
  gsize shape[2] = { rows, cols };
  gsize n = ndim == 2 ? rows * cols : rows;
  float *data = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    data[i] = start + (float) i;
  return lf_array_new_take (LF_DTYPE_FLOAT32, ndim, shape, data);
}

static LfNode *
model (void)
{
  LfNode *layers = lf_list_new_take (
    2,
    lf_struct_new_take ("Linear", "weight", array (2, 4, 2, 0), "bias", array (1, 4, 0, 10), NULL),
    lf_struct_new_take ("Linear", "weight", array (2, 2, 4, 20), "bias", array (1, 2, 0, 30), NULL));
  return lf_struct_new_take ("Model", "layers", layers,
                             "cache", lf_dict_new_take ("keys", array (2, 8, 8, 0), NULL),
                             "step", lf_scalar_new_int (1000), NULL);
}

static gboolean
print_leaf (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  g_autofree char *where = lf_path_to_string (path);
  printf ("  %-22s %s\n", where, lf_node_kind_name (lf_node_get_kind (leaf)));
  return TRUE;
}

/* Saves the model with the rules in `rules_file` and loads it back. */
static gboolean
save_and_load (const char *rules_file, const char *eqx, GError **error)
{
  /* The default registry has the installed plugins; add our own codec. */
  LfRegistry *registry = lf_registry_get_default ();
  if (lf_registry_lookup (registry, "skip") == NULL
      && !lf_registry_register_func (registry, "skip", "store nothing", nothing, skip_save,
                                     skip_load, NULL, NULL, error))
    return FALSE;

  g_autoptr (LfSpec) spec = lf_spec_load_rules_file (registry, rules_file, "npy", error);
  if (spec == NULL)
    return FALSE;

  g_autoptr (LfNode) tree = model ();
  printf ("leaves of the model:\n");
  lf_tree_foreach_leaf (tree, NULL, NULL, print_leaf, NULL);

  /* Strict mode: every rule must match some leaf. */
  if (!lf_spec_check_rules_used (spec, tree, NULL, NULL, error))
    return FALSE;

  if (!lf_tree_serialise_leaves (eqx, tree, spec, NULL, NULL, error))
    return FALSE;
  GStatBuf st;
  if (g_stat (eqx, &st) == 0)
    printf ("saved %s: %lld bytes\n", eqx, (long long) st.st_size);

  /* Loading uses the same rules; skipped leaves come from `like`. */
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (eqx, tree, spec, NULL, NULL, error);
  if (loaded == NULL)
    return FALSE;
  gboolean equal = lf_tree_equal (loaded, tree);
  printf ("loaded it back: %s\n", equal ? "equal" : "DIFFERENT");
  return equal;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("leafio-rules-XXXXXX", &error);
  if (dir == NULL)
    {
      fprintf (stderr, "rules: %s\n", error->message);
      return 1;
    }
  g_autofree char *eqx = g_build_filename (dir, "model.eqx", NULL);
  g_autofree char *rules_file = argc > 1 ? g_strdup (argv[1])
                                         : g_build_filename (dir, "model.rules", NULL);
  gboolean ok = (argc > 1 || g_file_set_contents (rules_file, default_rules, -1, &error))
                && save_and_load (rules_file, eqx, &error);
  if (!ok)
    fprintf (stderr, "rules: %s\n", error != NULL ? error->message : "the loaded tree differs");
  g_unlink (eqx);
  if (argc <= 1)
    g_unlink (rules_file);
  g_rmdir (dir);
  return ok ? 0 : 1;
}
