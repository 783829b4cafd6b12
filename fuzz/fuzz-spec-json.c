/* Fuzz target: the JSON filter-spec parser, lf_spec_parse_json().
 *
 * A spec that parses is then used: the fuzz tree is saved with it to memory
 * (which may fail cleanly: the spec may not fit the tree, or name a codec
 * that refuses a leaf), and whatever saved must load back with the same
 * spec into the fuzz `like` tree. */
#include "fuzz-common.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static LfRegistry *registry;
static LfNode *tree, *like;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  registry = fuzz_init ();
  tree = fuzz_tree (TRUE);
  like = fuzz_tree (FALSE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_spec_parse_json (registry, text, &error);
  if (spec == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
      return 0;
    }
  FUZZ_CHECK (error == NULL, "a spec and an error");
  fuzz_check_spec_round_trip (spec, tree, like);
  return 0;
}
