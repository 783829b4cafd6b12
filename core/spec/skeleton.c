/* Tree skeletons in JSON: the `like` tree a .eqx file needs, in text.
 *
 * Containers use the forms of json-private.h; leaves are objects:
 *   {"dtype": "float32", "shape": [768, 2304]}   an (abstract) array
 *   {"scalar": "int64", "value": 3}              a scalar
 *   {"opaque": "function"}                       an opaque placeholder
 *
 * Scalar values: true/false for bool; integers for integer dtypes (a
 * uint64 above 2^63-1, which JSON readers cannot hold as a 64-bit signed
 * integer, is a string of decimal digits); numbers for floats, with the
 * strings "nan", "inf" and "-inf" for the values JSON cannot spell, and a
 * number in a string ("1e+308") where its shortest form has an exponent
 * but no dot (json-glib misprints those); [re, im] for complex.
 * Floats are written with 17 significant digits, so
 * from_json(to_json(x)) gives back the same bits (NaN payloads aside). */
#include "config.h"
#include <math.h>
#include <string.h>
#include "json-private.h"

/* ---- JSON -> tree ---------------------------------------------------------- */

static gboolean
is_leaf_object (JsonObject *object)
{
  static const char *const tags[] = { "dtype", "scalar", "opaque" };
  for (gsize i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      JsonNode *tag = json_object_get_member (object, tags[i]);
      if (tag != NULL && JSON_NODE_HOLDS_VALUE (tag))
        return TRUE;
    }
  return FALSE;
}

static void G_GNUC_PRINTF (3, 4)
set_error (GError **error, LfJsonPath *path, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: %s", path->text->str, message);
}

/* Fails unless every member of `object` is in the NULL-terminated `allowed`. */
static gboolean
check_members (JsonObject *object, LfJsonPath *path, const char *what,
               const char *const *allowed, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        g_autofree char *expected = g_strjoinv (", ", (char **) allowed);
        set_error (error, path, "unknown member \"%s\" in %s (expected %s)",
                   (const char *) l->data, what, expected);
        return FALSE;
      }
  for (const char *const *name = allowed; *name != NULL; name++)
    if (!json_object_has_member (object, *name))
      {
        set_error (error, path, "%s lacks the member \"%s\"", what, *name);
        return FALSE;
      }
  return TRUE;
}

static const char *
get_string (JsonNode *node)
{
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

static gboolean
is_integer (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64;
}

/* The dtype named by member `key` of `object`, or INVALID with an error. */
static LfDType
get_dtype (JsonObject *object, const char *key, LfJsonPath *path, GError **error)
{
  JsonNode *node = json_object_get_member (object, key);
  const char *name = get_string (node);
  gsize saved = _lf_json_path_push_member (path, key);
  LfDType dtype = name != NULL ? lf_dtype_from_name (name) : LF_DTYPE_INVALID;
  if (name == NULL)
    set_error (error, path, "expected a dtype name, found %s", _lf_json_describe (node));
  else if (dtype == LF_DTYPE_INVALID)
    set_error (error, path, "unknown dtype \"%s\" (expected bool, int8..int64, "
               "uint8..uint64, float16, bfloat16, float32, float64, complex64 or "
               "complex128)", name);
  _lf_json_path_pop (path, saved);
  return dtype;
}

static LfNode *
array_leaf (JsonObject *object, LfJsonPath *path, GError **error)
{
  static const char *const members[] = { "dtype", "shape", NULL };
  if (!check_members (object, path, "an array leaf", members, error))
    return NULL;
  LfDType dtype = get_dtype (object, "dtype", path, error);
  if (dtype == LF_DTYPE_INVALID)
    return NULL;

  JsonNode *shape_node = json_object_get_member (object, "shape");
  gsize saved = _lf_json_path_push_member (path, "shape");
  if (!JSON_NODE_HOLDS_ARRAY (shape_node))
    {
      set_error (error, path, "expected an array of non-negative integers, found %s",
                 _lf_json_describe (shape_node));
      return NULL;
    }
  JsonArray *dims = json_node_get_array (shape_node);
  guint ndim = json_array_get_length (dims);
  if (ndim > LF_MAX_NDIM)
    {
      set_error (error, path, "%u dimensions, at most %d are allowed", ndim, LF_MAX_NDIM);
      return NULL;
    }
  gsize shape[LF_MAX_NDIM];
  for (guint i = 0; i < ndim; i++)
    {
      JsonNode *dim = json_array_get_element (dims, i);
      if (!is_integer (dim) || json_node_get_int (dim) < 0
          || (guint64) json_node_get_int (dim) > G_MAXSIZE)
        {
          gsize saved_dim = _lf_json_path_push_index (path, i);
          set_error (error, path, "expected a non-negative integer, found %s",
                     is_integer (dim) ? "a negative or too large integer"
                                      : _lf_json_describe (dim));
          _lf_json_path_pop (path, saved_dim);
          return NULL;
        }
      shape[i] = (gsize) json_node_get_int (dim);
    }
  gsize n_bytes;
  if (!lf_shape_n_bytes (dtype, ndim, shape, &n_bytes))
    {
      g_autofree char *text = lf_shape_to_string (ndim, shape);
      set_error (error, path, "shape %s of %s holds more bytes than memory can address",
                 text, lf_dtype_name (dtype));
      return NULL;
    }
  _lf_json_path_pop (path, saved);
  return lf_array_new_abstract (dtype, ndim, ndim > 0 ? shape : NULL);
}

/* A float value: a JSON number, "nan", "inf", "-inf", or a number in a
 * string (how values that need an exponent are written). */
static gboolean
get_float (JsonNode *node, double *value)
{
  const char *text = get_string (node);
  if (text != NULL)
    {
      if (strcmp (text, "nan") == 0)
        *value = NAN;
      else if (strcmp (text, "inf") == 0)
        *value = INFINITY;
      else if (strcmp (text, "-inf") == 0)
        *value = -INFINITY;
      else
        {
          /* A finite number written as a string ("1e+308"). */
          char *end = NULL;
          *value = g_ascii_strtod (text, &end);
          if (end == text || *end != '\0' || !isfinite (*value))
            return FALSE;
        }
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType type = json_node_get_value_type (node);
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return FALSE;
  *value = json_node_get_double (node);
  return TRUE;
}

/* An integer value as its bits in a guint64 (two's complement for signed
 * dtypes), checked against the dtype's range. */
static gboolean
get_integer (JsonNode *node, LfDType dtype, guint64 *bits, const char **problem)
{
  gboolean is_signed = lf_dtype_is_signed (dtype);
  guint size = (guint) lf_dtype_size (dtype);
  const char *text = get_string (node);
  if (text != NULL)
    {
      /* Big uint64 values are written as decimal strings. */
      guint64 u;
      if (is_signed || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &u, NULL))
        {
          *problem = "expected an integer";
          return FALSE;
        }
      if (size < 8 && u > (G_GUINT64_CONSTANT (1) << (size * 8)) - 1)
        {
          *problem = "integer out of the dtype's range";
          return FALSE;
        }
      *bits = u;
      return TRUE;
    }
  if (!is_integer (node))
    {
      *problem = "expected an integer";
      return FALSE;
    }
  gint64 v = json_node_get_int (node);
  gboolean in_range;
  if (is_signed)
    {
      gint64 max = size == 8 ? G_MAXINT64 : (G_GINT64_CONSTANT (1) << (size * 8 - 1)) - 1;
      in_range = v >= -max - 1 && v <= max;
    }
  else
    in_range = v >= 0 && (size == 8 || (guint64) v < (G_GUINT64_CONSTANT (1) << (size * 8)));
  if (!in_range)
    {
      *problem = "integer out of the dtype's range";
      return FALSE;
    }
  *bits = (guint64) v;
  return TRUE;
}

/* A scalar of `dtype` from a double, rounded as numpy rounds. */
static LfNode *
float_scalar (LfDType dtype, double value)
{
  if (dtype == LF_DTYPE_FLOAT64)
    return lf_scalar_new_float (value);
  if (dtype == LF_DTYPE_FLOAT32)
    {
      float f = (float) value;
      return lf_scalar_new (dtype, &f);
    }
  /* float16, bfloat16: the tree's conversion rounds to nearest even. */
  g_autoptr (LfNode) wide = lf_scalar_new_float (value);
  return lf_scalar_convert (wide, dtype, NULL);
}

static LfNode *
integer_scalar (JsonNode *value, LfDType dtype, const char **problem)
{
  guint64 bits;
  if (!get_integer (value, dtype, &bits, problem))
    return NULL;
  /* Native bytes of the value: the low `size` bytes of `bits`. */
  union { gint8 i8; gint16 i16; gint32 i32; guint64 u64; } raw;
  switch (lf_dtype_size (dtype))
    {
    case 1: raw.i8 = (gint8) bits; break;
    case 2: raw.i16 = (gint16) bits; break;
    case 4: raw.i32 = (gint32) bits; break;
    default: raw.u64 = bits; break;
    }
  return lf_scalar_new (dtype, &raw);
}

static LfNode *
complex_scalar (JsonNode *value, LfDType dtype, const char **problem)
{
  double re, im;
  JsonArray *pair = JSON_NODE_HOLDS_ARRAY (value) ? json_node_get_array (value) : NULL;
  if (pair == NULL || json_array_get_length (pair) != 2
      || !get_float (json_array_get_element (pair, 0), &re)
      || !get_float (json_array_get_element (pair, 1), &im))
    {
      *problem = "expected [real, imaginary] numbers";
      return NULL;
    }
  if (dtype == LF_DTYPE_COMPLEX128)
    return lf_scalar_new_complex (re, im);
  float parts[2] = { (float) re, (float) im };
  return lf_scalar_new (dtype, parts);
}

/* The scalar of `dtype` that JSON `value` writes, or NULL with `problem`
 * saying what was wrong with it. */
static LfNode *
scalar_from_value (JsonNode *value, LfDType dtype, const char **problem)
{
  if (dtype == LF_DTYPE_BOOL)
    {
      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_BOOLEAN)
        return lf_scalar_new_bool (json_node_get_boolean (value));
      *problem = "expected true or false";
      return NULL;
    }
  if (lf_dtype_is_integer (dtype))
    return integer_scalar (value, dtype, problem);
  if (!lf_dtype_is_float (dtype))
    return complex_scalar (value, dtype, problem);
  double v;
  LfNode *leaf = NULL;
  if (!get_float (value, &v))
    *problem = "expected a number, \"nan\", \"inf\" or \"-inf\"";
  else if ((leaf = float_scalar (dtype, v)) == NULL)
    *problem = "a number out of the dtype's range";
  return leaf;
}

static LfNode *
scalar_leaf (JsonObject *object, LfJsonPath *path, GError **error)
{
  static const char *const members[] = { "scalar", "value", NULL };
  if (!check_members (object, path, "a scalar leaf", members, error))
    return NULL;
  LfDType dtype = get_dtype (object, "scalar", path, error);
  if (dtype == LF_DTYPE_INVALID)
    return NULL;

  JsonNode *value = json_object_get_member (object, "value");
  gsize saved = _lf_json_path_push_member (path, "value");
  const char *problem = NULL;
  LfNode *leaf = scalar_from_value (value, dtype, &problem);
  if (leaf == NULL)
    {
      set_error (error, path, "%s for a %s scalar, found %s", problem,
                 lf_dtype_name (dtype), _lf_json_describe (value));
      return NULL;
    }
  _lf_json_path_pop (path, saved);
  return leaf;
}

static LfNode *
opaque_leaf (JsonObject *object, LfJsonPath *path, GError **error)
{
  static const char *const members[] = { "opaque", NULL };
  if (!check_members (object, path, "an opaque leaf", members, error))
    return NULL;
  JsonNode *node = json_object_get_member (object, "opaque");
  const char *type_name = get_string (node);
  if (type_name == NULL)
    {
      gsize saved = _lf_json_path_push_member (path, "opaque");
      set_error (error, path, "expected a type name, found %s", _lf_json_describe (node));
      _lf_json_path_pop (path, saved);
      return NULL;
    }
  return lf_opaque_new (type_name, NULL, NULL);
}

static LfNode *
skeleton_leaf (JsonNode *node, LfJsonPath *path, gpointer user_data, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      set_error (error, path, "expected a leaf object ({\"dtype\": ...}, {\"scalar\": ...} "
                 "or {\"opaque\": ...}), a container or null, found %s",
                 _lf_json_describe (node));
      return NULL;
    }
  JsonObject *object = json_node_get_object (node);
  if (json_object_has_member (object, "dtype"))
    return array_leaf (object, path, error);
  if (json_object_has_member (object, "scalar"))
    return scalar_leaf (object, path, error);
  return opaque_leaf (object, path, error);
}

LfNode *
_lf_tree_from_json_node (JsonNode *root, GError **error)
{
  return _lf_json_to_tree (root, is_leaf_object, skeleton_leaf, NULL, error);
}

LfNode *
lf_tree_from_json (const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (JsonNode) root = _lf_json_parse (text, -1, "skeleton", error);
  if (root == NULL)
    return NULL;
  LfNode *tree = _lf_tree_from_json_node (root, error);
  if (tree == NULL)
    g_prefix_error (error, "skeleton: ");
  return tree;
}

LfNode *
lf_tree_from_json_file (const char *filename, GError **error)
{
  g_return_val_if_fail (filename != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  gsize length;
  g_autofree char *text = lf_read_side_file (filename, LF_SIDE_FILE_MAX, &length, error);
  if (text == NULL)
    return NULL;
  g_autoptr (JsonNode) root = _lf_json_parse (text, (gssize) length, filename, error);
  if (root == NULL)
    return NULL;
  LfNode *tree = _lf_tree_from_json_node (root, error);
  if (tree == NULL)
    g_prefix_error (error, "%s: ", filename);
  return tree;
}

/* ---- tree -> JSON ---------------------------------------------------------- */

static void
add_float (JsonBuilder *builder, double value)
{
  if (isnan (value))
    json_builder_add_string_value (builder, "nan");
  else if (isinf (value))
    json_builder_add_string_value (builder, value > 0 ? "inf" : "-inf");
  else
    {
      /* json-glib appends ".0" to a number without a dot, printing 1e+308
       * as "1e+308.0", which no parser accepts: such values are strings. */
      char text[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_dtostr (text, sizeof text, value);
      if (strpbrk (text, "eE") != NULL && strchr (text, '.') == NULL)
        json_builder_add_string_value (builder, text);
      else
        json_builder_add_double_value (builder, value);
    }
}

static void
add_scalar_value (JsonBuilder *builder, const LfNode *leaf)
{
  LfDType dtype = lf_scalar_get_dtype (leaf);
  if (dtype == LF_DTYPE_BOOL)
    json_builder_add_boolean_value (builder, lf_scalar_get_bool (leaf));
  else if (dtype == LF_DTYPE_UINT64)
    {
      guint64 v;
      memcpy (&v, lf_scalar_get_value (leaf), sizeof v);
      if (v > G_MAXINT64)
        {
          char digits[24];
          g_snprintf (digits, sizeof digits, "%" G_GUINT64_FORMAT, v);
          json_builder_add_string_value (builder, digits);
        }
      else
        json_builder_add_int_value (builder, (gint64) v);
    }
  else if (lf_dtype_is_integer (dtype))
    json_builder_add_int_value (builder, lf_scalar_get_int (leaf));
  else if (lf_dtype_is_complex (dtype))
    {
      double re, im;
      lf_scalar_get_complex (leaf, &re, &im);
      json_builder_begin_array (builder);
      add_float (builder, re);
      add_float (builder, im);
      json_builder_end_array (builder);
    }
  else
    add_float (builder, lf_scalar_get_float (leaf));
}

static void
add_member_name (JsonBuilder *builder, const char *key)
{
  g_autofree char *member = _lf_json_escape_key (key);
  json_builder_set_member_name (builder, member);
}

static void add_node (JsonBuilder *builder, const LfNode *node);

/* [a, b] for a list, {"$tuple": [a, b]} for a tuple. */
static void
add_sequence (JsonBuilder *builder, const LfNode *node)
{
  gboolean tuple = lf_node_get_kind (node) == LF_NODE_TUPLE;
  if (tuple)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "$tuple");
    }
  json_builder_begin_array (builder);
  for (gsize i = 0; i < lf_node_get_n_children (node); i++)
    add_node (builder, lf_node_get_child (node, i));
  json_builder_end_array (builder);
  if (tuple)
    json_builder_end_object (builder);
}

/* {"k": v} for a dict, {"$struct": "Name", "f": v} for a struct. */
static void
add_mapping (JsonBuilder *builder, const LfNode *node)
{
  gboolean dict = lf_node_get_kind (node) == LF_NODE_DICT;
  json_builder_begin_object (builder);
  if (!dict)
    {
      json_builder_set_member_name (builder, "$struct");
      json_builder_add_string_value (builder, lf_struct_get_type_name (node));
    }
  for (gsize i = 0; i < lf_node_get_n_children (node); i++)
    {
      add_member_name (builder, dict ? lf_dict_get_key (node, i)
                                     : lf_struct_get_field_name (node, i));
      add_node (builder, lf_node_get_child (node, i));
    }
  json_builder_end_object (builder);
}

/* {"dtype": ..., "shape": [...]}, {"scalar": ..., "value": ...} or
 * {"opaque": "type"}. */
static void
add_leaf (JsonBuilder *builder, const LfNode *node)
{
  json_builder_begin_object (builder);
  switch (lf_node_get_kind (node))
    {
    case LF_NODE_ARRAY:
      _lf_json_add_dtype_and_shape (builder, lf_array_get_dtype (node),
                                    lf_array_get_ndim (node), lf_array_get_shape (node));
      break;
    case LF_NODE_SCALAR:
      json_builder_set_member_name (builder, "scalar");
      json_builder_add_string_value (builder, lf_dtype_name (lf_scalar_get_dtype (node)));
      json_builder_set_member_name (builder, "value");
      add_scalar_value (builder, node);
      break;
    default:
      json_builder_set_member_name (builder, "opaque");
      json_builder_add_string_value (builder, lf_opaque_get_type_name (node));
      break;
    }
  json_builder_end_object (builder);
}

static void
add_node (JsonBuilder *builder, const LfNode *node)
{
  switch (lf_node_get_kind (node))
    {
    case LF_NODE_NONE:
      json_builder_add_null_value (builder);
      break;
    case LF_NODE_LIST:
    case LF_NODE_TUPLE:
      add_sequence (builder, node);
      break;
    case LF_NODE_DICT:
    case LF_NODE_STRUCT:
      add_mapping (builder, node);
      break;
    default:
      add_leaf (builder, node);
      break;
    }
}

JsonNode *
_lf_tree_to_json_node (const LfNode *tree)
{
  /* JsonBuilder adds values only inside a container. */
  if (lf_node_get_kind (tree) == LF_NODE_NONE)
    return json_node_new (JSON_NODE_NULL);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  add_node (builder, tree);
  return json_builder_get_root (builder);
}

char *
lf_tree_to_json (const LfNode *tree, gboolean pretty)
{
  g_return_val_if_fail (tree != NULL, NULL);

  g_autoptr (JsonNode) root = _lf_tree_to_json_node (tree);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, pretty);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}
