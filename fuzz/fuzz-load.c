/* Fuzz target: arbitrary bytes deserialised into the fixed mixed `like`
 * tree (fuzz-common.h) with the codec FUZZ_CODEC (a codec reference, "npy"
 * unless the build says otherwise: run.sh builds one binary a codec).
 *
 * Each input is loaded three ways, which must agree: from memory (size
 * known), from GBytes (zero-copy slices) and through a read callback that
 * hands out a few bytes at a time (size unknown, as a pipe).  A load either
 * returns a whole tree or NULL with an LF_ERROR; a loaded tree, saved again
 * with the same codec, must load back equal. */
#include "fuzz-common.h"

#ifndef FUZZ_CODEC
#define FUZZ_CODEC "npy"
#endif

static LfRegistry *registry;
static LfSpec *spec;
static LfNode *like;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  registry = fuzz_init ();
  GError *error = NULL;
  spec = lf_spec_new_for_reference (registry, FUZZ_CODEC, &error);
  if (spec == NULL)
    {
      fprintf (stderr, "fuzz: %s\n", error->message);
      abort ();
    }
  like = fuzz_tree (FALSE);
  return 0;
}

typedef struct {
  const guint8 *data;
  gsize size, offset;
} Trickle;

/* Hands out 1..7 bytes a call, the count taken from the data itself so runs
 * are reproducible. */
static gssize
trickle_read (gpointer user_data, void *buffer, gsize count, GError **error)
{
  (void) error;
  Trickle *t = user_data;
  gsize left = t->size - t->offset;
  gsize n = MIN (MIN (count, left), (gsize) 1 + (t->offset * 7 + t->size) % 7);
  memcpy (buffer, t->data + t->offset, n);
  t->offset += n;
  return (gssize) n;
}

static LfNode *
load (LfStream *stream, const char *how)
{
  GError *error = NULL;
  LfNode *out = lf_tree_deserialise_leaves_from_stream (stream, like, spec, NULL, NULL,
                                                        &error);
  if (out == NULL)
    fuzz_check_error (error);
  else
    FUZZ_CHECK (error == NULL, "%s: a tree and an error", how);
  g_clear_error (&error);
  return out;
}

/* A loaded tree saves and loads back to itself. */
static void
check_round_trip (LfNode *tree)
{
  GError *error = NULL;
  g_autoptr (LfStream) out = lf_stream_new_memory ();
  FUZZ_CHECK (lf_tree_serialise_leaves_to_stream (out, tree, spec, NULL, NULL, &error),
              "re-save: %s", error->message);
  g_autoptr (GBytes) bytes = lf_stream_steal_bytes (out);
  g_autoptr (LfStream) in = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) again = lf_tree_deserialise_leaves_from_stream (in, like, spec, NULL,
                                                                     NULL, &error);
  FUZZ_CHECK (again != NULL, "re-load: %s", error->message);
  FUZZ_CHECK (lf_tree_equal (again, tree), "re-loaded tree differs");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (LfStream) memory = lf_stream_new_for_data (data, size);
  g_autoptr (LfNode) from_memory = load (memory, "memory");
  if (from_memory != NULL)
    FUZZ_CHECK (lf_stream_tell (memory) <= size, "read past the end");

  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (LfStream) sliced = lf_stream_new_for_bytes (bytes);
  g_autoptr (LfNode) from_bytes = load (sliced, "bytes");

  Trickle trickle = { data, size, 0 };
  g_autoptr (LfStream) pipe = lf_stream_new_for_callbacks (trickle_read, NULL, &trickle, NULL);
  g_autoptr (LfNode) from_pipe = load (pipe, "callbacks");

  FUZZ_CHECK ((from_memory != NULL) == (from_bytes != NULL)
              && (from_memory != NULL) == (from_pipe != NULL),
              "streams disagree: memory %d, bytes %d, callbacks %d", from_memory != NULL,
              from_bytes != NULL, from_pipe != NULL);
  if (from_memory == NULL)
    return 0;
  FUZZ_CHECK (lf_tree_equal (from_memory, from_bytes) && lf_tree_equal (from_memory, from_pipe),
              "streams loaded different trees");
  FUZZ_CHECK (lf_stream_tell (memory) == lf_stream_tell (pipe),
              "streams stopped at different offsets");
  check_round_trip (from_memory);
  return 0;
}
