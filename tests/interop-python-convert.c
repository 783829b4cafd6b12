/* Helper of interop-python-codecs.py: the C side of the Python interop
 * tests.  Loads IN into the skeleton's structure with the spec IN_SPEC
 * (through lf_tree_deserialise_leaves, which checks IN's manifest when there
 * is one) and saves it to OUT with OUT_SPEC and a manifest.
 *
 *   interop-python-convert SKELETON.json IN IN_SPEC OUT OUT_SPEC
 *
 * A spec is a codec reference, or a JSON spec tree when it starts with '{'
 * or '['.  Exit status 1 with the error on stderr. */
#include <stdio.h>

#include <leafio/leafio.h>

static LfSpec *
spec_from_text (const char *text, GError **error)
{
  if (text[0] == '{' || text[0] == '[')
    return lf_spec_parse_json (NULL, text, error);
  return lf_spec_new_for_reference (NULL, text, error);
}

int
main (int argc, char **argv)
{
  if (argc != 6)
    {
      fprintf (stderr, "usage: %s SKELETON.json IN IN_SPEC OUT OUT_SPEC\n", argv[0]);
      return 2;
    }
  GError *error = NULL;
  g_autoptr (LfNode) like = lf_tree_from_json_file (argv[1], &error);
  g_autoptr (LfSpec) in_spec = like != NULL ? spec_from_text (argv[3], &error) : NULL;
  g_autoptr (LfSpec) out_spec = in_spec != NULL ? spec_from_text (argv[5], &error) : NULL;
  g_autoptr (LfNode) tree = out_spec != NULL
    ? lf_tree_deserialise_leaves_full (argv[2], like, in_spec, NULL, NULL, LF_LOAD_DEFAULT, &error)
    : NULL;
  if (tree == NULL
      || !lf_tree_serialise_leaves_full (argv[4], tree, out_spec, NULL, NULL,
                                         LF_SAVE_MANIFEST | LF_SAVE_NO_SYNC, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      g_error_free (error);
      return 1;
    }
  return 0;
}
