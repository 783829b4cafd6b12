/* Fuzz target: JSON side inputs (skeletons, specs, manifests) as the
 * library reads them from files: lf_read_side_file(), then
 * lf_tree_from_json_file(), lf_spec_parse_json() and the manifest check of
 * a load.  The seeds and the dictionary are rich in comments (C, `//` and
 * `#` ones) and quotes, the characters that once let a comment hide nesting
 * from the depth bound.
 *
 * Properties beyond "no crash, no leak, no UB, errors are ours":
 * - what lf_read_side_file() reads is the whole file;
 * - a skeleton that parses writes back (lf_tree_to_json) to one that
 *   parses to an equal tree;
 * - a load whose manifest is the input either succeeds or fails with an
 *   error naming the manifest. */
#include <unistd.h>
#include <glib/gstdio.h>
#include "fuzz-common.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static LfRegistry *registry;
static char *dir, *input_path, *data_path, *manifest_path;
static LfNode *saved;
static LfSpec *spec_npy;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  registry = fuzz_init ();
  dir = g_dir_make_tmp ("leafio-fuzz-json-XXXXXX", NULL);
  FUZZ_CHECK (dir != NULL, "no temporary directory");
  input_path = g_build_filename (dir, "input.json", NULL);
  data_path = g_build_filename (dir, "model.eqx", NULL);
  manifest_path = g_build_filename (dir, "model.eqx.json", NULL);
  saved = lf_list_new_take (2, lf_scalar_new_int (3), lf_scalar_new_float (0.5));
  GError *error = NULL;
  spec_npy = lf_spec_new_for_reference (registry, "npy", &error);
  FUZZ_CHECK (spec_npy != NULL, "no npy: %s", error != NULL ? error->message : "?");
  FUZZ_CHECK (lf_tree_serialise_leaves (data_path, saved, spec_npy, NULL, NULL, &error),
              "cannot save: %s", error != NULL ? error->message : "?");
  return 0;
}

/* Plain writes: g_file_set_contents syncs, which would cost most of each
 * execution. */
static void
write_input (const char *path, const uint8_t *data, size_t size)
{
  FILE *f = fopen (path, "wb");
  FUZZ_CHECK (f != NULL, "cannot write %s", path);
  FUZZ_CHECK (size == 0 || fwrite (data, 1, size, f) == size, "short write to %s", path);
  FUZZ_CHECK (fclose (f) == 0, "cannot close %s", path);
}

static void
check_skeleton_round_trip (LfNode *tree)
{
  g_autofree char *text = lf_tree_to_json (tree, FALSE);
  GError *error = NULL;
  g_autoptr (LfNode) again = lf_tree_from_json (text, &error);
  FUZZ_CHECK (again != NULL, "a skeleton's own JSON does not parse: %s: %s", text,
              error != NULL ? error->message : "?");
  FUZZ_CHECK (lf_tree_equal (again, tree), "a skeleton changed through its JSON: %s", text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  write_input (input_path, data, size);
  GError *error = NULL;
  gsize length = 0;
  g_autofree char *text = lf_read_side_file (input_path, LF_SIDE_FILE_MAX, &length, &error);
  FUZZ_CHECK (text != NULL && length == size, "cannot read back %zu bytes: %s", size,
              error != NULL ? error->message : "short");

  g_autoptr (LfNode) tree = lf_tree_from_json_file (input_path, &error);
  if (tree == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
    }
  else
    check_skeleton_round_trip (tree);

  g_autoptr (LfSpec) spec = lf_spec_parse_json (registry, text, &error);
  if (spec == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
    }

  write_input (manifest_path, data, size);
  g_autoptr (LfNode) loaded = lf_tree_deserialise_leaves (data_path, saved, spec_npy, NULL, NULL,
                                                          &error);
  if (loaded == NULL)
    {
      fuzz_check_error (error);
      FUZZ_CHECK (strstr (error->message, "model.eqx.json") != NULL,
                  "a manifest error that does not name the manifest: %s", error->message);
      g_clear_error (&error);
    }
  else
    FUZZ_CHECK (lf_tree_equal (loaded, saved), "the load changed the tree");
  return 0;
}
