/* The layout of LfNode and LfPath, shared by the core files.
 *
 * Nodes are immutable once a constructor returns them: code outside
 * tree.c reads these fields but never writes them (build new nodes with
 * the public constructors or lf_container_new_take_arrays()).
 */
#pragma once

#include <leafio/leafio.h>

G_BEGIN_DECLS

/* Arrays with at most this many dims keep their shape inline. */
#define LF_SHAPE_INLINE_NDIM 4

struct _LfNode {
  gatomicrefcount ref_count;
  LfNodeKind kind;
  union {
    /* LF_NODE_TUPLE, LF_NODE_LIST, LF_NODE_DICT, LF_NODE_STRUCT, LF_NODE_NONE */
    struct {
      gsize n;              /* number of children (0 for none) */
      LfNode **children;    /* n owned references in flattening order; NULL when n is 0 */
      char **keys;          /* dict: n sorted (strcmp) keys; struct: n field names in
                             * order; NULL for tuple, list and none */
      char *type_name;      /* struct only, else NULL */
    } container;

    /* LF_NODE_ARRAY */
    struct {
      LfDType dtype;
      guint ndim;                              /* <= LF_MAX_NDIM */
      gsize *shape;                            /* ndim dims: shape_inline or g_malloc'd;
                                                * NULL when ndim is 0 */
      gsize shape_inline[LF_SHAPE_INLINE_NDIM];
      gsize n_elements;                        /* product of shape */
      gsize n_bytes;                           /* n_elements * lf_dtype_size (dtype) */
      GBytes *bytes;                           /* n_bytes of C-ordered data; NULL when
                                                * abstract */
    } array;

    /* LF_NODE_SCALAR */
    struct {
      LfDType dtype;
      union {                                  /* the first lf_dtype_size (dtype) bytes
                                                * hold the value, native byte order */
        guint8 bytes[16];
        gint64 i64;
        double f64[2];
      } value;
    } scalar;

    /* LF_NODE_OPAQUE */
    struct {
      char *type_name;                         /* owned copy */
      gpointer data;
      GDestroyNotify destroy;                  /* runs on data when the node goes; may be NULL */
    } opaque;
  };
};

/* A container of `kind` adopting `children` (n references, the array
 * itself too), `keys` (a g_strfreev-able array of n strings, already
 * sorted for a dict; NULL for tuple/list) and `type_name` (struct only).
 * No checks: for code that rebuilds containers from an existing one. */
LfNode *lf_container_new_take_arrays (LfNodeKind kind, gsize n, LfNode **children,
                                      char **keys, char *type_name);

/* A container of the same kind, keys and type as `node` adopting
 * `children` (n references and the array itself). */
LfNode *lf_container_new_like (const LfNode *node, LfNode **children);

/* The index of `key` in dict `node` (binary search), or -1. */
gssize lf_dict_find (const LfNode *node, const char *key);
/* The index of field `name` in struct `node`, or -1. */
gssize lf_struct_find (const LfNode *node, const char *name);

/* Tuple, list, dict, struct and none hold children; the others are leaves. */
static inline gboolean
lf_node_kind_is_container (LfNodeKind kind)
{
  return kind <= LF_NODE_NONE;
}

/* Whether containers `a` and `b` have the same kind, length, keys or
 * fields and struct type: the same shape of tree one level down. */
gboolean lf_container_same_layout (const LfNode *a, const LfNode *b);

/* One key of a path. */
typedef struct {
  LfKeyKind kind;
  gint64 index;   /* LF_KEY_INDEX */
  char *name;     /* LF_KEY_DICT, LF_KEY_FIELD: owned */
} LfPathKey;

struct _LfPath {
  GArray *keys;   /* of LfPathKey, from the root down */
};

/* Appends the keystr text of one key (`[3]`, `['a']`, `.w`) to `out`. */
void lf_path_key_append_to (const LfPathKey *key, GString *out);

G_END_DECLS
