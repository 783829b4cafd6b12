/* Fuzz target: the tree-skeleton parser, lf_tree_from_json().
 *
 * A skeleton that parses prints (lf_tree_to_json) to text that parses to an
 * equal tree and prints the same again (to_json (from_json (x)) is stable). */
#include "fuzz-common.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  lf_registry_unref (fuzz_init ());
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  GError *error = NULL;
  g_autoptr (LfNode) tree = lf_tree_from_json (text, &error);
  if (tree == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
      return 0;
    }
  FUZZ_CHECK (error == NULL, "a tree and an error");
  g_autofree char *printed = lf_tree_to_json (tree, FALSE);
  FUZZ_CHECK (printed != NULL, "no text for a parsed tree");
  g_autoptr (LfNode) again = lf_tree_from_json (printed, &error);
  FUZZ_CHECK (again != NULL, "printed skeleton '%s' refused: %s", printed, error->message);
  g_autofree char *printed2 = lf_tree_to_json (again, TRUE);
  g_autoptr (LfNode) again2 = lf_tree_from_json (printed2, &error);
  FUZZ_CHECK (again2 != NULL, "pretty skeleton refused: %s", error->message);
  g_autofree char *printed3 = lf_tree_to_json (again2, FALSE);
  FUZZ_CHECK (strcmp (printed, printed3) == 0, "'%s' printed as '%s'", printed, printed3);
  return 0;
}
