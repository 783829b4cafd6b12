/* Writes the fuzz tree (fuzz-common.h, with data) to FILE with the codec
 * REFERENCE: the seed of a load target.  Built by run.sh with the fuzz
 * build of the library; make-seeds.sh runs it.
 *
 *   seed-writer REFERENCE FILE
 *   seed-writer --skeleton FILE     the fuzz tree's skeleton (JSON) */
#include "fuzz-common.h"

int
main (int argc, char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: %s REFERENCE FILE\n", argv[0]);
      return 2;
    }
  LfRegistry *registry = fuzz_init ();
  if (strcmp (argv[1], "--skeleton") == 0)
    {
      g_autoptr (LfNode) skeleton_tree = fuzz_tree (TRUE);
      g_autofree char *json = lf_tree_to_json (skeleton_tree, TRUE);
      GError *write_error = NULL;
      if (!g_file_set_contents (argv[2], json, -1, &write_error))
        {
          fprintf (stderr, "seed-writer: %s\n", write_error->message);
          return 1;
        }
      lf_registry_unref (registry);
      return 0;
    }
  GError *error = NULL;
  g_autoptr (LfSpec) spec = lf_spec_new_for_reference (registry, argv[1], &error);
  g_autoptr (LfNode) tree = fuzz_tree (TRUE);
  g_autoptr (LfNode) like = fuzz_tree (FALSE);
  if (spec == NULL || !lf_tree_serialise_leaves (argv[2], tree, spec, NULL, NULL, &error))
    {
      fprintf (stderr, "seed-writer: %s\n", error->message);
      return 1;
    }
  /* The seed must load into the targets' `like`, or it seeds nothing. */
  g_autoptr (LfNode) back = lf_tree_deserialise_leaves (argv[2], like, spec, NULL, NULL,
                                                        &error);
  if (back == NULL || !lf_tree_equal (back, tree))
    {
      fprintf (stderr, "seed-writer: %s does not load back: %s\n", argv[2],
               error != NULL ? error->message : "different values");
      return 1;
    }
  lf_registry_unref (registry);
  return 0;
}
