/**
 * SECTION:tree
 * @title: Trees
 * @short_description: immutable, reference-counted trees of arrays
 *
 * A tree is made of immutable, reference-counted #LfNode values:
 *
 * - containers: tuple, list, dict (string keys, kept sorted as JAX
 *   flattens them), struct (a named record such as an eqx.Module: a type
 *   name and ordered fields), none (an empty subtree, no leaves);
 * - leaves: array (dtype, shape, C-ordered data; owned, borrowed, a slice
 *   of a mapping, or abstract: dtype and shape only), scalar (a typed 0-d
 *   value: Python bool/int/float/complex are b1/i8/f8/c16 scalars), opaque
 *   (anything else; never saved by the default codecs).
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

/**
 * LfNodeKind:
 * @LF_NODE_TUPLE: a tuple: items by index
 * @LF_NODE_LIST: a list: items by index
 * @LF_NODE_DICT: a dict: values by sorted string key
 * @LF_NODE_STRUCT: a struct: a type name and ordered, named fields
 * @LF_NODE_NONE: an empty subtree (Python None); no leaves
 * @LF_NODE_ARRAY: an array leaf
 * @LF_NODE_SCALAR: a scalar leaf
 * @LF_NODE_OPAQUE: any other leaf
 *
 * What a node is.
 *
 * Since: 0.1
 */
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

/**
 * lf_node_ref:
 * @node: a node
 *
 * Adds a reference to @node.
 *
 * Returns: (transfer full): @node
 *
 * Since: 0.1
 */
LF_API LfNode *lf_node_ref (LfNode *node);
/**
 * lf_node_unref:
 * @node: (nullable) (transfer full): a node
 *
 * Drops a reference; the node, and the references it holds, go with the
 * last one.
 *
 * Since: 0.1
 */
LF_API void lf_node_unref (LfNode *node);
/**
 * lf_node_get_kind:
 * @node: a node
 *
 * What a node is.
 *
 * Returns: what @node is.
 *
 * Since: 0.1
 */
LF_API LfNodeKind lf_node_get_kind (const LfNode *node);
/**
 * lf_node_kind_name:
 * @kind: a node kind
 *
 * The name of a node kind, for messages.
 *
 * Returns: (transfer none): "tuple", "list", "dict", "struct", "none",
 *   "array", "scalar" or "opaque"; a static string.
 *
 * Since: 0.1
 */
LF_API const char *lf_node_kind_name (LfNodeKind kind);
/**
 * lf_node_is_container:
 * @node: a node
 *
 * Whether a node is a container.
 *
 * Returns: %TRUE for tuple, list, dict, struct and none.
 *
 * Since: 0.1
 */
LF_API gboolean lf_node_is_container (const LfNode *node);

/* ---- containers ---------------------------------------------------------- */

/**
 * lf_tuple_new:
 * @n: the number of items
 * @items: (array length=n) (transfer none): the items
 *
 * A tuple of @n items; adds a reference to each.
 *
 * Returns: (transfer full): the tuple.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tuple_new (gsize n, LfNode *const *items);
/**
 * lf_list_new:
 * @n: the number of items
 * @items: (array length=n) (transfer none): the items
 *
 * A list of @n items; adds a reference to each.
 *
 * Returns: (transfer full): the list.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_list_new (gsize n, LfNode *const *items);
/**
 * lf_tuple_new_take:
 * @n: the number of items
 * @...: @n `LfNode *` items, whose references the tuple adopts
 *
 * A tuple from variadic items: `lf_tuple_new_take (2, lf_scalar_new_int
 * (1), lf_none_new ())`.
 *
 * Returns: (transfer full): the tuple.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tuple_new_take (gsize n, ...);
/**
 * lf_list_new_take:
 * @n: the number of items
 * @...: @n `LfNode *` items, whose references the list adopts
 *
 * A list from variadic items: `lf_list_new_take (2, lf_scalar_new_int
 * (1), lf_none_new ())`.
 *
 * Returns: (transfer full): the list.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_list_new_take (gsize n, ...);

/**
 * lf_dict_new:
 * @n: the number of entries
 * @keys: (array length=n): the keys; copied
 * @values: (array length=n) (transfer none): the values
 *
 * A dict of @n entries; adds a reference to each value.  Keys are sorted
 * (byte order, which is Python's str order for UTF-8).
 *
 * Returns: (transfer full) (nullable): the dict; %NULL and a critical for
 *   duplicate keys, a programming error.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_dict_new (gsize n, const char *const *keys,
                            LfNode *const *values);
/**
 * lf_dict_new_take:
 * @first_key: the first key
 * @...: its value, then key, value, ..., %NULL; the dict adopts the values
 *
 * A dict from variadic entries.
 *
 * Returns: (transfer full) (nullable): the dict; %NULL and a critical for
 *   duplicate keys.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_dict_new_take (const char *first_key, ...) G_GNUC_NULL_TERMINATED;

/**
 * lf_struct_new:
 * @type_name: the struct's type name ("MLP"); copied
 * @n: the number of fields
 * @fields: (array length=n): the field names, unique and non-empty; copied
 * @values: (array length=n) (transfer none): the values
 *
 * A struct with @n fields in the given order; adds a reference to each
 * value.
 *
 * Returns: (transfer full) (nullable): the struct; %NULL and a critical
 *   for an empty or duplicate field name, a programming error.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_struct_new (const char *type_name, gsize n,
                              const char *const *fields, LfNode *const *values);
/**
 * lf_struct_new_take:
 * @type_name: the struct's type name; copied
 * @first_field: the first field's name
 * @...: its value, then field, value, ..., %NULL; the struct adopts the
 *   values
 *
 * A struct from variadic fields.
 *
 * Returns: (transfer full) (nullable): the struct; %NULL and a critical
 *   for an empty or duplicate field name, a programming error.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_struct_new_take (const char *type_name, const char *first_field,
                                   ...) G_GNUC_NULL_TERMINATED;

/**
 * lf_none_new:
 *
 * The empty subtree (Python None).  It has no leaves.
 *
 * Returns: (transfer full): a none node.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_none_new (void);

/**
 * lf_node_get_n_children:
 * @node: a node
 *
 * The number of children of a node.
 *
 * Returns: the number of children of a container (0 for none and for
 *   leaves).
 *
 * Since: 0.1
 */
LF_API gsize lf_node_get_n_children (const LfNode *node);
/**
 * lf_node_get_child:
 * @node: a container
 * @i: an index below lf_node_get_n_children()
 *
 * Child @i in flattening order: dict children in sorted key order, struct
 * children in field order.
 *
 * Returns: (transfer none): the child.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_node_get_child (const LfNode *node, gsize i);
/**
 * lf_dict_get_key:
 * @node: a dict
 * @i: an index below lf_node_get_n_children()
 *
 * A key of a dict.
 *
 * Returns: (transfer none): key @i, in sorted order.
 *
 * Since: 0.1
 */
LF_API const char *lf_dict_get_key (const LfNode *node, gsize i);
/**
 * lf_dict_lookup:
 * @node: a dict
 * @key: a key
 *
 * Looks a key up in a dict.
 *
 * Returns: (transfer none) (nullable): the value for @key, or %NULL.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_dict_lookup (const LfNode *node, const char *key);
/**
 * lf_struct_get_type_name:
 * @node: a struct
 *
 * The type name of a struct.
 *
 * Returns: (transfer none): the struct's type name.
 *
 * Since: 0.1
 */
LF_API const char *lf_struct_get_type_name (const LfNode *node);
/**
 * lf_struct_get_field_name:
 * @node: a struct
 * @i: an index below lf_node_get_n_children()
 *
 * A field name of a struct.
 *
 * Returns: (transfer none): the name of field @i.
 *
 * Since: 0.1
 */
LF_API const char *lf_struct_get_field_name (const LfNode *node, gsize i);
/**
 * lf_struct_lookup:
 * @node: a struct
 * @name: a field name
 *
 * Looks a field up in a struct.
 *
 * Returns: (transfer none) (nullable): the value of field @name, or %NULL.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_struct_lookup (const LfNode *node, const char *name);

/* ---- array leaves -------------------------------------------------------- */

/* All array constructors copy `shape` (`ndim` <= LF_MAX_NDIM entries; may
 * be NULL when ndim is 0).  The data is C-ordered, native-endian and holds
 * exactly lf_shape_n_elements() * lf_dtype_size() bytes.  A shape whose
 * byte size overflows gsize is a programming error (NULL + critical);
 * lf_shape_n_bytes() lets callers check first. */

/**
 * lf_array_new_take:
 * @dtype: the element type
 * @ndim: the number of dimensions, at most %LF_MAX_NDIM
 * @shape: (array length=ndim) (nullable): the dimensions; copied
 * @data: (transfer full): C-ordered, native-endian data of the shape's
 *   size, freed with g_free()
 *
 * An array that adopts @data.
 *
 * Returns: (transfer full) (nullable): the array; %NULL and a critical
 *   when the shape's byte size overflows (lf_shape_n_bytes() checks
 *   first).
 *
 * Since: 0.1
 */
LF_API LfNode *lf_array_new_take (LfDType dtype, guint ndim, const gsize *shape,
                                  gpointer data);
/**
 * lf_array_new_copy:
 * @dtype: the element type
 * @ndim: the number of dimensions, at most %LF_MAX_NDIM
 * @shape: (array length=ndim) (nullable): the dimensions; copied
 * @data: C-ordered, native-endian data of the shape's size; copied
 *
 * An array with a copy of @data.
 *
 * Returns: (transfer full) (nullable): the array; %NULL and a critical
 *   when the shape's byte size overflows.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_array_new_copy (LfDType dtype, guint ndim, const gsize *shape,
                                  gconstpointer data);
/**
 * lf_array_new_borrowed:
 * @dtype: the element type
 * @ndim: the number of dimensions, at most %LF_MAX_NDIM
 * @shape: (array length=ndim) (nullable): the dimensions; copied
 * @data: C-ordered, native-endian data of the shape's size; borrowed
 * @notify: (nullable): called with @user_data when the last reference to
 *   the data goes; %NULL for static data
 * @user_data: for @notify
 *
 * An array over memory the caller keeps alive until @notify runs.
 *
 * Returns: (transfer full) (nullable): the array; %NULL and a critical
 *   when the shape's byte size overflows.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_array_new_borrowed (LfDType dtype, guint ndim, const gsize *shape,
                                      gconstpointer data, GDestroyNotify notify,
                                      gpointer user_data);
/**
 * lf_array_new_from_bytes:
 * @dtype: the element type
 * @ndim: the number of dimensions, at most %LF_MAX_NDIM
 * @shape: (array length=ndim) (nullable): the dimensions; copied
 * @bytes: (transfer none): the data; its size must match the shape
 *
 * An array over @bytes, which gets a reference.  Slices of a
 * #GMappedFile's bytes give zero-copy arrays that keep the mapping alive.
 *
 * Returns: (transfer full) (nullable): the array; %NULL and a critical
 *   when the size does not match.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_array_new_from_bytes (LfDType dtype, guint ndim, const gsize *shape,
                                        GBytes *bytes);
/**
 * lf_array_new_zeros:
 * @dtype: the element type
 * @ndim: the number of dimensions, at most %LF_MAX_NDIM
 * @shape: (array length=ndim) (nullable): the dimensions; copied
 *
 * An array of zeros.
 *
 * Returns: (transfer full) (nullable): a zero-filled array; %NULL and a
 *   critical when the shape's byte size overflows.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_array_new_zeros (LfDType dtype, guint ndim, const gsize *shape);
/**
 * lf_array_new_abstract:
 * @dtype: the element type
 * @ndim: the number of dimensions, at most %LF_MAX_NDIM
 * @shape: (array length=ndim) (nullable): the dimensions; copied
 *
 * An abstract array: dtype and shape only, no data (jax.ShapeDtypeStruct).
 * Loads fill abstract leaves of `like` in.
 *
 * Returns: (transfer full): the array.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_array_new_abstract (LfDType dtype, guint ndim, const gsize *shape);

/**
 * lf_array_get_dtype:
 * @node: an array
 *
 * The element type of an array.
 *
 * Returns: the array's element type.
 *
 * Since: 0.1
 */
LF_API LfDType lf_array_get_dtype (const LfNode *node);
/**
 * lf_array_get_ndim:
 * @node: an array
 *
 * The number of dimensions of an array.
 *
 * Returns: the number of dimensions.
 *
 * Since: 0.1
 */
LF_API guint lf_array_get_ndim (const LfNode *node);
/**
 * lf_array_get_shape:
 * @node: an array
 *
 * The dimensions of an array.
 *
 * Returns: (transfer none) (nullable) (array): the lf_array_get_ndim()
 *   dimensions; %NULL when there are none.
 *
 * Since: 0.1
 */
LF_API const gsize *lf_array_get_shape (const LfNode *node);
/**
 * lf_array_get_n_elements:
 * @node: an array
 *
 * The number of elements of an array.
 *
 * Returns: the product of the dimensions (1 for ndim 0).
 *
 * Since: 0.1
 */
LF_API gsize lf_array_get_n_elements (const LfNode *node);
/**
 * lf_array_get_n_bytes:
 * @node: an array
 *
 * The size of an array's data.
 *
 * Returns: the size of the data in bytes.
 *
 * Since: 0.1
 */
LF_API gsize lf_array_get_n_bytes (const LfNode *node);
/**
 * lf_array_is_abstract:
 * @node: an array
 *
 * Whether an array is abstract.
 *
 * Returns: %TRUE when the array has a dtype and shape but no data.
 *
 * Since: 0.1
 */
LF_API gboolean lf_array_is_abstract (const LfNode *node);
/**
 * lf_array_get_data:
 * @node: an array
 *
 * The data of an array.
 *
 * Returns: (transfer none) (nullable): the data, or %NULL for an abstract
 *   array.  A zero-size array may return any non-%NULL pointer.
 *
 * Since: 0.1
 */
LF_API gconstpointer lf_array_get_data (const LfNode *node);
/**
 * lf_array_get_bytes:
 * @node: an array
 *
 * The data of an array, as #GBytes.
 *
 * Returns: (transfer none) (nullable): the data as #GBytes, or %NULL for
 *   an abstract array.
 *
 * Since: 0.1
 */
LF_API GBytes *lf_array_get_bytes (const LfNode *node);

/**
 * lf_shape_n_elements:
 * @ndim: the number of dimensions
 * @shape: (array length=ndim) (nullable): the dimensions
 * @n_elements: (out): their product (1 for ndim 0)
 *
 * The number of elements of a shape, checked for overflow.
 *
 * Returns: %FALSE when the product or its byte size for any dtype
 *   overflows #gsize.
 *
 * Since: 0.1
 */
LF_API gboolean lf_shape_n_elements (guint ndim, const gsize *shape, gsize *n_elements);
/**
 * lf_shape_n_bytes:
 * @dtype: the element type
 * @ndim: the number of dimensions
 * @shape: (array length=ndim) (nullable): the dimensions
 * @n_bytes: (out): the size of an array of that shape in bytes
 *
 * The byte size of an array of a shape, checked for overflow.
 *
 * Returns: %FALSE when the size overflows #gsize.
 *
 * Since: 0.1
 */
LF_API gboolean lf_shape_n_bytes (LfDType dtype, guint ndim, const gsize *shape,
                                  gsize *n_bytes);
/**
 * lf_shape_to_string:
 * @ndim: the number of dimensions
 * @shape: (array length=ndim) (nullable): the dimensions
 *
 * A shape as Python writes it.
 *
 * Returns: (transfer full): the Python repr of the shape: "()", "(3,)",
 *   "(2, 3)".  Free with g_free().
 *
 * Since: 0.1
 */
LF_API char *lf_shape_to_string (guint ndim, const gsize *shape);

/* ---- scalar leaves ------------------------------------------------------- */

/**
 * lf_scalar_new_bool:
 * @value: the value
 *
 * Makes a bool scalar.
 *
 * Returns: (transfer full): a bool scalar, as Equinox saves a Python bool.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_scalar_new_bool (gboolean value);
/**
 * lf_scalar_new_int:
 * @value: the value
 *
 * Makes an integer scalar.
 *
 * Returns: (transfer full): an int64 scalar, as Equinox saves a Python
 *   int.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_scalar_new_int (gint64 value);
/**
 * lf_scalar_new_float:
 * @value: the value
 *
 * Makes a float scalar.
 *
 * Returns: (transfer full): a float64 scalar, as Equinox saves a Python
 *   float.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_scalar_new_float (double value);
/**
 * lf_scalar_new_complex:
 * @real: the real part
 * @imag: the imaginary part
 *
 * Makes a complex scalar.
 *
 * Returns: (transfer full): a complex128 scalar, as Equinox saves a
 *   Python complex.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_scalar_new_complex (double real, double imag);
/**
 * lf_scalar_new:
 * @dtype: the element type
 * @value: lf_dtype_size() bytes in native byte order; copied
 *
 * A numpy scalar of any dtype.
 *
 * Returns: (transfer full): the scalar.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_scalar_new (LfDType dtype, gconstpointer value);

/**
 * lf_scalar_get_dtype:
 * @node: a scalar
 *
 * The element type of a scalar.
 *
 * Returns: the scalar's element type.
 *
 * Since: 0.1
 */
LF_API LfDType lf_scalar_get_dtype (const LfNode *node);
/**
 * lf_scalar_get_value:
 * @node: a scalar
 *
 * A scalar's raw value.
 *
 * Returns: (transfer none): the raw value, lf_dtype_size() bytes in
 *   native byte order.
 *
 * Since: 0.1
 */
LF_API gconstpointer lf_scalar_get_value (const LfNode *node);
/**
 * lf_scalar_get_bool:
 * @node: a scalar
 *
 * A scalar's value as a boolean.
 *
 * Returns: the value converted as Python's bool(x) does.
 *
 * Since: 0.1
 */
LF_API gboolean lf_scalar_get_bool (const LfNode *node);
/**
 * lf_scalar_get_int:
 * @node: a scalar
 *
 * A scalar's value as an integer.
 *
 * Returns: the value converted as Python's int(x) does (truncating; a
 *   complex value gives its real part).
 *
 * Since: 0.1
 */
LF_API gint64 lf_scalar_get_int (const LfNode *node);
/**
 * lf_scalar_get_float:
 * @node: a scalar
 *
 * A scalar's value as a double.
 *
 * Returns: the value converted as Python's float(x) does (a complex value
 *   gives its real part).
 *
 * Since: 0.1
 */
LF_API double lf_scalar_get_float (const LfNode *node);
/**
 * lf_scalar_get_complex:
 * @node: a scalar
 * @real: (out) (optional): the real part
 * @imag: (out) (optional): the imaginary part (0 for real dtypes)
 *
 * The value converted as Python's complex(x) does.
 *
 * Since: 0.1
 */
LF_API void lf_scalar_get_complex (const LfNode *node, double *real, double *imag);
/**
 * lf_scalar_convert:
 * @node: a scalar
 * @dtype: the dtype wanted
 * @error: return location for a #GError, or %NULL
 *
 * A scalar of @dtype holding @node's value converted as
 * `type(x)(value.item())` does.  Complex to non-complex keeps the real
 * part only when the imaginary part is 0 (numpy's ComplexWarning is an
 * error in Python).
 *
 * Returns: (transfer full) (nullable): the scalar, or %NULL with
 *   %LF_ERROR_MISMATCH for a complex value with an imaginary part.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_scalar_convert (const LfNode *node, LfDType dtype, GError **error);

/* ---- opaque leaves ------------------------------------------------------- */

/**
 * lf_opaque_new:
 * @type_name: describes the value in messages; copied
 * @data: (nullable): the value: a function pointer, a string, a user object
 * @destroy: (nullable): called with @data when the node goes
 *
 * A leaf for anything that is not an array or a scalar.  The default
 * codecs write nothing for it, and loads keep `like`'s.
 *
 * Returns: (transfer full): the leaf.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_opaque_new (const char *type_name, gpointer data,
                              GDestroyNotify destroy);
/**
 * lf_opaque_get_type_name:
 * @node: an opaque leaf
 *
 * The type name of an opaque leaf.
 *
 * Returns: (transfer none): the type name given to lf_opaque_new().
 *
 * Since: 0.1
 */
LF_API const char *lf_opaque_get_type_name (const LfNode *node);
/**
 * lf_opaque_get_data:
 * @node: an opaque leaf
 *
 * The value of an opaque leaf.
 *
 * Returns: (transfer none) (nullable): the data given to lf_opaque_new().
 *
 * Since: 0.1
 */
LF_API gpointer lf_opaque_get_data (const LfNode *node);

/* ---- paths --------------------------------------------------------------- */

/**
 * LfKeyKind:
 * @LF_KEY_INDEX: `[3]` in a tuple or list (negative counts from the end
 *   in lookups)
 * @LF_KEY_DICT: `['name']` in a dict
 * @LF_KEY_FIELD: `.name` in a struct
 *
 * The kind of one key of a path.
 *
 * Since: 0.1
 */
typedef enum {
  LF_KEY_INDEX,
  LF_KEY_DICT,
  LF_KEY_FIELD,
} LfKeyKind;

/**
 * lf_path_new:
 *
 * Makes an empty path.
 *
 * Returns: (transfer full): an empty path (the root), a mutable list of
 *   keys; not reference-counted: free with lf_path_free().
 *
 * Since: 0.1
 */
LF_API LfPath *lf_path_new (void);
/**
 * lf_path_copy:
 * @path: a path
 *
 * Copies a path.
 *
 * Returns: (transfer full): a copy of @path.
 *
 * Since: 0.1
 */
LF_API LfPath *lf_path_copy (const LfPath *path);
/**
 * lf_path_free:
 * @path: (nullable) (transfer full): a path
 *
 * Frees @path.
 *
 * Since: 0.1
 */
LF_API void lf_path_free (LfPath *path);
/**
 * lf_path_push_index:
 * @path: a path
 * @index: the index
 *
 * Appends the key `[index]`.
 *
 * Since: 0.1
 */
LF_API void lf_path_push_index (LfPath *path, gint64 index);
/**
 * lf_path_push_key:
 * @path: a path
 * @key: the dict key; copied
 *
 * Appends the key `['key']`.
 *
 * Since: 0.1
 */
LF_API void lf_path_push_key (LfPath *path, const char *key);
/**
 * lf_path_push_field:
 * @path: a path
 * @field: the field name; copied
 *
 * Appends the key `.field`.
 *
 * Since: 0.1
 */
LF_API void lf_path_push_field (LfPath *path, const char *field);
/**
 * lf_path_pop:
 * @path: a path with at least one key
 *
 * Removes the last key.
 *
 * Since: 0.1
 */
LF_API void lf_path_pop (LfPath *path);
/**
 * lf_path_get_length:
 * @path: a path
 *
 * The number of keys of a path.
 *
 * Returns: the number of keys.
 *
 * Since: 0.1
 */
LF_API gsize lf_path_get_length (const LfPath *path);
/**
 * lf_path_get_kind:
 * @path: a path
 * @i: an index below lf_path_get_length()
 *
 * The kind of a key.
 *
 * Returns: the kind of key @i.
 *
 * Since: 0.1
 */
LF_API LfKeyKind lf_path_get_kind (const LfPath *path, gsize i);
/**
 * lf_path_get_index:
 * @path: a path
 * @i: the index of an %LF_KEY_INDEX key
 *
 * The index of a tuple or list key.
 *
 * Returns: the tuple or list index key @i holds.
 *
 * Since: 0.1
 */
LF_API gint64 lf_path_get_index (const LfPath *path, gsize i);
/**
 * lf_path_get_name:
 * @path: a path
 * @i: the index of an %LF_KEY_DICT or %LF_KEY_FIELD key
 *
 * The name of a dict key or struct field key.
 *
 * Returns: (transfer none): the dict key or field name key @i holds.
 *
 * Since: 0.1
 */
LF_API const char *lf_path_get_name (const LfPath *path, gsize i);
/**
 * lf_path_to_string:
 * @path: a path
 *
 * A path as keystr text.
 *
 * Returns: (transfer full): the keystr text: "" for the root,
 *   `"[1]['a'].weight"`.  Dict keys are quoted as Python's repr does.  Free
 *   with g_free().
 *
 * Since: 0.1
 */
LF_API char *lf_path_to_string (const LfPath *path);
/**
 * lf_path_append_to:
 * @path: a path
 * @out: the string to append to
 *
 * Appends the keystr text of @path to @out (no allocation when @out has
 * room).
 *
 * Since: 0.1
 */
LF_API void lf_path_append_to (const LfPath *path, GString *out);
/**
 * lf_path_parse:
 * @text: keystr text ("", ".layers[-1].weight", "['a']")
 * @error: return location for a #GError, or %NULL
 *
 * Parses a path from keystr text.
 *
 * Returns: (transfer full) (nullable): the path, or %NULL with
 *   %LF_ERROR_PARSE naming the position.
 *
 * Since: 0.1
 */
LF_API LfPath *lf_path_parse (const char *text, GError **error);

/* ---- traversal ----------------------------------------------------------- */

/**
 * LfIsLeafFunc:
 * @node: a node, container or leaf
 * @user_data: the data given with the function
 *
 * Equinox's is_leaf: called on every node, containers included, before
 * descending.
 *
 * Returns: %TRUE to make @node a leaf.
 *
 * Since: 0.1
 */
typedef gboolean (*LfIsLeafFunc) (const LfNode *node, gpointer user_data);

/**
 * LfLeafFunc:
 * @path: the leaf's path, valid only during the call
 * @leaf: (transfer none): the leaf
 * @user_data: the data given with the function
 *
 * Called once a leaf, in order.
 *
 * Returns: %FALSE to stop the walk.
 *
 * Since: 0.1
 */
typedef gboolean (*LfLeafFunc) (const LfPath *path, LfNode *leaf, gpointer user_data);

/**
 * lf_tree_foreach_leaf:
 * @tree: a tree
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @func: called once a leaf
 * @user_data: for @func
 *
 * Visits the leaves of @tree depth first, left to right: tuple and list
 * items by index, dict values by sorted key, struct fields in order; none
 * has no leaves.  Array, scalar and opaque nodes are leaves, and so is any
 * node @is_leaf accepts.
 *
 * Returns: %FALSE when @func stopped the walk.
 *
 * Since: 0.1
 */
LF_API gboolean lf_tree_foreach_leaf (LfNode *tree, LfIsLeafFunc is_leaf,
                                      gpointer is_leaf_data, LfLeafFunc func,
                                      gpointer user_data);
/**
 * lf_tree_count_leaves:
 * @tree: a tree
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 *
 * Counts the leaves of a tree.
 *
 * Returns: the number of leaves, as lf_tree_foreach_leaf() visits them.
 *
 * Since: 0.1
 */
LF_API gsize lf_tree_count_leaves (const LfNode *tree, LfIsLeafFunc is_leaf,
                                   gpointer is_leaf_data);
/**
 * lf_tree_get_leaves:
 * @tree: a tree
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 *
 * The leaves of a tree, in order.
 *
 * Returns: (transfer container) (element-type LfNode): the leaves in
 *   order; each is borrowed from @tree.
 *
 * Since: 0.1
 */
LF_API GPtrArray *lf_tree_get_leaves (const LfNode *tree, LfIsLeafFunc is_leaf,
                                      gpointer is_leaf_data);

/* ---- lookup, surgery, comparison ------------------------------------------ */

/**
 * lf_tree_get:
 * @tree: a tree
 * @path: a path; negative indices count from the end
 * @error: return location for a #GError, or %NULL
 *
 * Looks a node up by path.
 *
 * Returns: (transfer none) (nullable): the node at @path, or %NULL with
 *   %LF_ERROR_NOT_FOUND naming the first key that does not exist.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_get (const LfNode *tree, const LfPath *path, GError **error);
/**
 * lf_tree_at:
 * @tree: a tree
 * @path: where to replace; negative indices count from the end
 *   (`layers[-1]`)
 * @replacement: (transfer none): the new node; a reference is added
 * @error: return location for a #GError, or %NULL
 *
 * A new tree equal to @tree with the node at @path replaced by
 * @replacement; everything else is shared.
 *
 * Returns: (transfer full) (nullable): the new tree, or %NULL with
 *   %LF_ERROR_NOT_FOUND when @path names no node.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_at (LfNode *tree, const LfPath *path, LfNode *replacement,
                           GError **error);
/**
 * lf_tree_at_str:
 * @tree: a tree
 * @path: where to replace, in keystr text (".layers[-1]")
 * @replacement: (transfer none): the new node; a reference is added
 * @error: return location for a #GError, or %NULL
 *
 * lf_tree_at() with the path in text.
 *
 * Returns: (transfer full) (nullable): the new tree, or %NULL with
 *   %LF_ERROR_PARSE or %LF_ERROR_NOT_FOUND.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_at_str (LfNode *tree, const char *path, LfNode *replacement,
                               GError **error);

/**
 * lf_tree_replace_leaves:
 * @tree: a tree
 * @is_leaf: (nullable): makes nodes leaves
 * @is_leaf_data: for @is_leaf
 * @replacements: (array) (transfer none): one entry per leaf, in
 *   lf_tree_foreach_leaf() order: the new leaf (a reference is added), or
 *   %NULL to keep the leaf
 *
 * A new tree with leaves replaced, sharing every subtree in which nothing
 * changed.
 *
 * Returns: (transfer full): the new tree.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_tree_replace_leaves (LfNode *tree, LfIsLeafFunc is_leaf,
                                       gpointer is_leaf_data, LfNode *const *replacements);

/**
 * lf_tree_equal:
 * @a: a tree
 * @b: another tree
 *
 * Deep equality: same structure (kinds, lengths, keys, field and type
 * names), arrays with equal dtype, shape and bytes (abstract arrays equal
 * only abstract arrays of the same dtype and shape), scalars with equal
 * dtype and bytes, opaque leaves only when they are the same node or hold
 * the same data pointer.
 *
 * Returns: %TRUE when @a and @b are equal.
 *
 * Since: 0.1
 */
LF_API gboolean lf_tree_equal (const LfNode *a, const LfNode *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfNode, lf_node_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfPath, lf_path_free)

G_END_DECLS
