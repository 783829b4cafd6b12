/* leafio: trees of arrays.
 *
 * A tree is made of immutable, reference-counted LfNode values:
 *
 *   containers  tuple, list, dict (string keys, kept sorted as JAX flattens
 *               them), struct (a named record such as an eqx.Module: a type
 *               name and ordered fields), none (an empty subtree, no leaves);
 *   leaves      array (dtype, shape, C-ordered data; owned, borrowed, a
 *               slice of a mapping, or abstract: dtype and shape only),
 *               scalar (a typed 0-d value: Python bool/int/float/complex are
 *               b1/i8/f8/c16 scalars), opaque (anything else; never saved by
 *               the default codecs).
 *
 * Nodes never change once built, so subtrees are shared freely: a loaded
 * tree shares every leaf it did not load with `like`, and lf_tree_at()
 * shares every subtree it does not replace.  Reference counts are atomic.
 *
 * Ownership: constructors return a new reference (transfer full).
 * Container constructors named `_take` adopt the references passed to
 * them; the others add their own.  Getters return borrowed pointers
 * (transfer none) valid while the node lives.
 *
 * Paths: a leaf's path is the list of keys from the root; its text form is
 * JAX's keystr: `[1]['a'].weight` (index, dict key, struct field).
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/dtype.h>

G_BEGIN_DECLS

typedef enum {
  LF_NODE_TUPLE,
  LF_NODE_LIST,
  LF_NODE_DICT,
  LF_NODE_STRUCT,
  LF_NODE_NONE,
  LF_NODE_ARRAY,
  LF_NODE_SCALAR,
  LF_NODE_OPAQUE,
} LfNodeKind;

/* ---- reference counting and kinds --------------------------------------- */

LF_API LfNode *lf_node_ref (LfNode *node);      /* returns node */
LF_API void lf_node_unref (LfNode *node);        /* NULL is allowed */
LF_API LfNodeKind lf_node_get_kind (const LfNode *node);
/* "tuple", "list", "dict", "struct", "none", "array", "scalar", "opaque" */
LF_API const char *lf_node_kind_name (LfNodeKind kind);
/* TRUE for tuple, list, dict, struct and none. */
LF_API gboolean lf_node_is_container (const LfNode *node);

/* ---- containers ---------------------------------------------------------- */

/* A tuple or list of `n` items; adds a reference to each. */
LF_API LfNode *lf_tuple_new (gsize n, LfNode *const *items);
LF_API LfNode *lf_list_new (gsize n, LfNode *const *items);
/* The same from `n` variadic LfNode * arguments, adopting their references:
 *   lf_list_new_take (2, lf_scalar_new_int (1), lf_none_new ()) */
LF_API LfNode *lf_tuple_new_take (gsize n, ...);
LF_API LfNode *lf_list_new_take (gsize n, ...);

/* A dict of `n` entries; keys are copied and sorted (byte order, which is
 * Python's str order for UTF-8).  Duplicate keys are a programming error:
 * NULL and a critical. */
LF_API LfNode *lf_dict_new (gsize n, const char *const *keys,
                            LfNode *const *values);
/* Variadic: key, value, key, value, ..., NULL; adopts the values. */
LF_API LfNode *lf_dict_new_take (const char *first_key, ...) G_GNUC_NULL_TERMINATED;

/* A struct named `type_name` with `n` fields in the given order.  Field
 * names must be unique and non-empty. */
LF_API LfNode *lf_struct_new (const char *type_name, gsize n,
                              const char *const *fields, LfNode *const *values);
/* Variadic: type name, then field, value, ..., NULL; adopts the values. */
LF_API LfNode *lf_struct_new_take (const char *type_name, const char *first_field,
                                   ...) G_GNUC_NULL_TERMINATED;

/* The empty subtree (Python None).  Has no leaves. */
LF_API LfNode *lf_none_new (void);

/* Number of children of a container (0 for none and for leaves). */
LF_API gsize lf_node_get_n_children (const LfNode *node);
/* Child `i` (transfer none), in flattening order: dict children in sorted
 * key order, struct children in field order. */
LF_API LfNode *lf_node_get_child (const LfNode *node, gsize i);
/* Key `i` of a dict, in sorted order (transfer none). */
LF_API const char *lf_dict_get_key (const LfNode *node, gsize i);
/* The value for `key`, or NULL (transfer none). */
LF_API LfNode *lf_dict_lookup (const LfNode *node, const char *key);
LF_API const char *lf_struct_get_type_name (const LfNode *node);
LF_API const char *lf_struct_get_field_name (const LfNode *node, gsize i);
/* The value of field `name`, or NULL (transfer none). */
LF_API LfNode *lf_struct_lookup (const LfNode *node, const char *name);

/* ---- array leaves -------------------------------------------------------- */

/* All array constructors copy `shape` (`ndim` <= LF_MAX_NDIM entries; may
 * be NULL when ndim is 0).  The data is C-ordered, native-endian and holds
 * exactly lf_shape_n_elements() * lf_dtype_size() bytes.  A shape whose
 * byte size overflows gsize is a programming error (NULL + critical);
 * lf_shape_n_bytes() lets callers check first. */

/* Adopts `data`, freed with g_free. */
LF_API LfNode *lf_array_new_take (LfDType dtype, guint ndim, const gsize *shape,
                                  gpointer data);
/* Copies `data`. */
LF_API LfNode *lf_array_new_copy (LfDType dtype, guint ndim, const gsize *shape,
                                  gconstpointer data);
/* Borrows `data`; `notify (user_data)` runs when the last reference to the
 * data goes (notify may be NULL for static data). */
LF_API LfNode *lf_array_new_borrowed (LfDType dtype, guint ndim, const gsize *shape,
                                      gconstpointer data, GDestroyNotify notify,
                                      gpointer user_data);
/* Takes a reference to `bytes`, whose size must match the shape.  Slices of a
 * GMappedFile's bytes give zero-copy arrays that keep the mapping alive. */
LF_API LfNode *lf_array_new_from_bytes (LfDType dtype, guint ndim, const gsize *shape,
                                        GBytes *bytes);
/* Zero-filled. */
LF_API LfNode *lf_array_new_zeros (LfDType dtype, guint ndim, const gsize *shape);
/* Abstract: dtype and shape only, no data (jax.ShapeDtypeStruct). */
LF_API LfNode *lf_array_new_abstract (LfDType dtype, guint ndim, const gsize *shape);

LF_API LfDType lf_array_get_dtype (const LfNode *node);
LF_API guint lf_array_get_ndim (const LfNode *node);
/* ndim entries (transfer none); NULL when ndim is 0. */
LF_API const gsize *lf_array_get_shape (const LfNode *node);
LF_API gsize lf_array_get_n_elements (const LfNode *node);
LF_API gsize lf_array_get_n_bytes (const LfNode *node);
LF_API gboolean lf_array_is_abstract (const LfNode *node);
/* The data (transfer none), or NULL for an abstract array.  A zero-size
 * array may return any non-NULL pointer. */
LF_API gconstpointer lf_array_get_data (const LfNode *node);
/* The data as GBytes (transfer none), or NULL for an abstract array. */
LF_API GBytes *lf_array_get_bytes (const LfNode *node);

/* Product of the dims (1 for ndim 0).  FALSE when it or its byte size for
 * `dtype` overflows gsize. */
LF_API gboolean lf_shape_n_elements (guint ndim, const gsize *shape, gsize *n_elements);
LF_API gboolean lf_shape_n_bytes (LfDType dtype, guint ndim, const gsize *shape,
                                  gsize *n_bytes);
/* Python repr of a shape: "()", "(3,)", "(2, 3)".  Free with g_free. */
LF_API char *lf_shape_to_string (guint ndim, const gsize *shape);

/* ---- scalar leaves ------------------------------------------------------- */

/* Python scalars: bool -> bool, int -> int64, float -> float64,
 * complex -> complex128 (as Equinox saves them). */
LF_API LfNode *lf_scalar_new_bool (gboolean value);
LF_API LfNode *lf_scalar_new_int (gint64 value);
LF_API LfNode *lf_scalar_new_float (double value);
LF_API LfNode *lf_scalar_new_complex (double real, double imag);
/* A numpy scalar of any dtype; copies lf_dtype_size (dtype) bytes from
 * `value` (native byte order). */
LF_API LfNode *lf_scalar_new (LfDType dtype, gconstpointer value);

LF_API LfDType lf_scalar_get_dtype (const LfNode *node);
/* The raw value, lf_dtype_size (dtype) bytes (transfer none). */
LF_API gconstpointer lf_scalar_get_value (const LfNode *node);
/* The value converted as Python does (bool(x), int(x) truncating, float(x);
 * complex to real keeps the real part). */
LF_API gboolean lf_scalar_get_bool (const LfNode *node);
LF_API gint64 lf_scalar_get_int (const LfNode *node);
LF_API double lf_scalar_get_float (const LfNode *node);
LF_API void lf_scalar_get_complex (const LfNode *node, double *real, double *imag);
/* A scalar of `dtype` holding `node`'s value converted as
 * `type(x)(value.item())` does.  Complex to non-complex keeps the real part
 * (numpy's ComplexWarning behaviour is an error in Python; here
 * LF_ERROR_MISMATCH unless the imaginary part is 0). */
LF_API LfNode *lf_scalar_convert (const LfNode *node, LfDType dtype, GError **error);

/* ---- opaque leaves ------------------------------------------------------- */

/* Anything else: a function pointer, a string, a user object.  `type_name`
 * (copied) describes it in messages; `destroy (data)` runs when the node
 * goes (may be NULL). */
LF_API LfNode *lf_opaque_new (const char *type_name, gpointer data,
                              GDestroyNotify destroy);
LF_API const char *lf_opaque_get_type_name (const LfNode *node);
LF_API gpointer lf_opaque_get_data (const LfNode *node);

/* ---- paths --------------------------------------------------------------- */

typedef enum {
  LF_KEY_INDEX, /* [3] in a tuple or list (negative counts from the end in lookups) */
  LF_KEY_DICT,  /* ['name'] */
  LF_KEY_FIELD, /* .name */
} LfKeyKind;

/* A mutable list of keys; not ref-counted. */
LF_API LfPath *lf_path_new (void);
LF_API LfPath *lf_path_copy (const LfPath *path);
LF_API void lf_path_free (LfPath *path);     /* NULL is allowed */
LF_API void lf_path_push_index (LfPath *path, gint64 index);
LF_API void lf_path_push_key (LfPath *path, const char *key);
LF_API void lf_path_push_field (LfPath *path, const char *field);
LF_API void lf_path_pop (LfPath *path);
LF_API gsize lf_path_get_length (const LfPath *path);
LF_API LfKeyKind lf_path_get_kind (const LfPath *path, gsize i);
LF_API gint64 lf_path_get_index (const LfPath *path, gsize i);
LF_API const char *lf_path_get_name (const LfPath *path, gsize i); /* key or field */
/* keystr text: "" for the root, "[1]['a'].weight".  Dict keys are quoted
 * as Python's repr does.  Free with g_free. */
LF_API char *lf_path_to_string (const LfPath *path);
/* Appends keystr text to `out` (no allocation when `out` has room). */
LF_API void lf_path_append_to (const LfPath *path, GString *out);
/* Parses keystr text ("", ".layers[-1].weight", "['a']") or fails with
 * LF_ERROR_PARSE naming the position. */
LF_API LfPath *lf_path_parse (const char *text, GError **error);

/* ---- traversal ----------------------------------------------------------- */

/* Makes `node` a leaf when it returns TRUE (Equinox's is_leaf).  Called on
 * every node, containers included, before descending. */
typedef gboolean (*LfIsLeafFunc) (const LfNode *node, gpointer user_data);

/* Called once a leaf in order; return FALSE to stop.  `path` is valid only
 * during the call. */
typedef gboolean (*LfLeafFunc) (const LfPath *path, LfNode *leaf, gpointer user_data);

/* Visits the leaves of `tree` depth first, left to right: tuple and list
 * items by index, dict values by sorted key, struct fields in order; none
 * has no leaves.  Array, scalar and opaque nodes are leaves, and so is any
 * node `is_leaf` (may be NULL) accepts.  Returns FALSE when `func` stopped
 * the walk. */
LF_API gboolean lf_tree_foreach_leaf (LfNode *tree, LfIsLeafFunc is_leaf,
                                      gpointer is_leaf_data, LfLeafFunc func,
                                      gpointer user_data);
/* Number of leaves. */
LF_API gsize lf_tree_count_leaves (const LfNode *tree, LfIsLeafFunc is_leaf,
                                   gpointer is_leaf_data);
/* The leaves in order (transfer container: each LfNode is borrowed). */
LF_API GPtrArray *lf_tree_get_leaves (const LfNode *tree, LfIsLeafFunc is_leaf,
                                      gpointer is_leaf_data);

/* ---- lookup, surgery, comparison ------------------------------------------ */

/* The node at `path` (transfer none), or NULL with LF_ERROR_NOT_FOUND naming
 * the first key that does not exist.  Negative indices count from the end. */
LF_API LfNode *lf_tree_get (const LfNode *tree, const LfPath *path, GError **error);
/* A new tree equal to `tree` with the node at `path` replaced by
 * `replacement` (a reference is added); everything else is shared.
 * Negative indices count from the end (`layers[-1]`).  NULL with
 * LF_ERROR_NOT_FOUND when `path` names no node. */
LF_API LfNode *lf_tree_at (LfNode *tree, const LfPath *path, LfNode *replacement,
                           GError **error);
/* The same with the path in keystr text: lf_tree_at_str (t, ".layers[-1]", x, &e). */
LF_API LfNode *lf_tree_at_str (LfNode *tree, const char *path, LfNode *replacement,
                               GError **error);

/* A new tree with leaf i (in lf_tree_foreach_leaf order) replaced by
 * `replacements[i]` (a reference is added; NULL keeps the leaf), sharing
 * every subtree in which nothing changed.  `replacements` holds one entry
 * per leaf. */
LF_API LfNode *lf_tree_replace_leaves (LfNode *tree, LfIsLeafFunc is_leaf,
                                       gpointer is_leaf_data, LfNode *const *replacements);

/* Deep equality: same structure (kinds, lengths, keys, field and type
 * names), arrays with equal dtype, shape and bytes (abstract arrays equal
 * only abstract arrays of the same dtype and shape), scalars with equal
 * dtype and bytes, opaque leaves only when they are the same node or hold
 * the same data pointer. */
LF_API gboolean lf_tree_equal (const LfNode *a, const LfNode *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfNode, lf_node_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfPath, lf_path_free)

G_END_DECLS
