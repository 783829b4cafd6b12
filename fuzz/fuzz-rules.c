/* Fuzz target: the path-rules parser, lf_spec_parse_rules().
 *
 * Rules that parse are used as fuzz-spec-json uses its specs (save the fuzz
 * tree, load back what saved), and the strict-mode check runs over the
 * tree. */
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
  g_autoptr (LfSpec) spec = lf_spec_parse_rules (registry, text, NULL, &error);
  if (spec == NULL)
    {
      fuzz_check_error (error);
      g_clear_error (&error);
      return 0;
    }
  FUZZ_CHECK (error == NULL, "a spec and an error");
  if (!lf_spec_check_rules_used (spec, tree, NULL, NULL, &error))
    {
      fuzz_check_error (error);
      g_clear_error (&error);
    }
  fuzz_check_spec_round_trip (spec, tree, like);
  return 0;
}
