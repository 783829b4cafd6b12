/* What the MPI test drivers share (each is one file that includes this
 * once): the rank, checks that count failures and name the rank, and the
 * `fail-on-1` codec, npy except that rank 1 cannot encode anything. */
#pragma once

#include <stdio.h>
#include <string.h>
#include <leafio/leafio-mpi.h>

static int rank, n_ranks;
static int failures;

#define CHECK(cond, ...)                                                        \
  do {                                                                          \
    if (!(cond))                                                                \
      {                                                                         \
        failures++;                                                             \
        fprintf (stderr, "rank %d: FAIL (%s:%d): ", rank, __FILE__, __LINE__);  \
        fprintf (stderr, __VA_ARGS__);                                          \
        fputc ('\n', stderr);                                                   \
      }                                                                         \
  } while (0)

#define CHECK_NO_ERROR(err)                                                     \
  do {                                                                          \
    CHECK ((err) == NULL, "unexpected error: %s", (err) ? (err)->message : ""); \
    g_clear_error (&(err));                                                     \
  } while (0)

static gboolean
arrays_only (const LfNode *leaf)
{
  return lf_node_get_kind (leaf) == LF_NODE_ARRAY || lf_node_get_kind (leaf) == LF_NODE_SCALAR;
}

static gboolean
fail_serialise (LfStream *out, const LfPath *path, LfNode *leaf, gpointer user_data,
                GError **error)
{
  if (rank == 1)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "injected failure on rank 1");
      return FALSE;
    }
  return lf_npy_write (out, leaf, 0, error);
}

static LfNode *
npy_deserialise (LfStream *in, const LfPath *path, LfNode *like, gpointer user_data,
                 GError **error)
{
  return lf_npy_read (in, error);
}

/* Registers `fail-on-1` in the default registry. */
static void
register_fail_on_1 (void)
{
  GError *error = NULL;
  lf_registry_register_func (lf_registry_get_default (), "fail-on-1", "npy that fails on rank 1",
                             arrays_only, fail_serialise, npy_deserialise, NULL, NULL, &error);
  CHECK_NO_ERROR (error);
}

static gboolean
files_equal (const char *a, const char *b)
{
  g_autofree char *x = NULL, *y = NULL;
  gsize nx = 0, ny = 0;
  if (!g_file_get_contents (a, &x, &nx, NULL) || !g_file_get_contents (b, &y, &ny, NULL))
    return FALSE;
  return nx == ny && memcmp (x, y, nx) == 0;
}

/* A dict like `tree` whose arrays are abstract (same dtype and shape): the
 * `like` of a collective load, whose blocks need no data. */
static LfNode *
abstract_arrays (LfNode *tree)
{
  gsize n = lf_node_get_n_children (tree);
  g_autofree const char **keys = g_new (const char *, MAX (n, 1));
  g_autofree LfNode **values = g_new (LfNode *, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    {
      LfNode *leaf = lf_node_get_child (tree, i);
      keys[i] = lf_dict_get_key (tree, i);
      values[i] = lf_node_get_kind (leaf) == LF_NODE_ARRAY
                      ? lf_array_new_abstract (lf_array_get_dtype (leaf), lf_array_get_ndim (leaf),
                                               lf_array_get_shape (leaf))
                      : lf_node_ref (leaf);
    }
  LfNode *like = lf_dict_new (n, keys, values);
  for (gsize i = 0; i < n; i++)
    lf_node_unref (values[i]);
  return like;
}
