/* A checkpoint directory's names, and the commit record of each step
 * (step-00000100.meta.json, docs/CHECKPOINTS.md): the one file whose
 * state, "pending" or "committed", says whether the step exists. */
#include "config.h"
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "checkpoint-private.h"
#include "json-private.h"

#define RECORD_FORMAT "leafio-checkpoint"
#define RECORD_VERSION 1
#define STEP_PREFIX "step-"
/* Steps are written with at least this many digits, so names sort. */
#define STEP_DIGITS 8

static const char *const suffixes[] = {
  LF_CHECKPOINT_DATA, LF_CHECKPOINT_MANIFEST, LF_CHECKPOINT_RECORD,
};

void
_lf_step_record_clear (gpointer data)
{
  LfStepRecord *record = data;
  g_clear_pointer (&record->metrics, lf_node_unref);
}

char *
_lf_checkpoint_file (const char *directory, gint64 step, const char *suffix)
{
  char name[64];
  g_snprintf (name, sizeof name, STEP_PREFIX "%0*" G_GINT64_FORMAT "%s", STEP_DIGITS, step,
              suffix);
  return g_build_filename (directory, name, NULL);
}

/* The step of "step-00000100" at the start of `name`, and where it ends. */
static gboolean
parse_step (const char *name, gint64 *step, const char **end)
{
  if (!g_str_has_prefix (name, STEP_PREFIX))
    return FALSE;
  const char *digits = name + strlen (STEP_PREFIX);
  const char *p = digits;
  while (g_ascii_isdigit (*p))
    p++;
  gsize n = (gsize) (p - digits);
  if (n < STEP_DIGITS || n > 19 || (n > STEP_DIGITS && digits[0] == '0'))
    return FALSE;
  g_autofree char *text = g_strndup (digits, n);
  guint64 value;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &value, NULL))
    return FALSE;
  *step = (gint64) value;
  *end = p;
  return TRUE;
}

gboolean
_lf_checkpoint_parse_name (const char *name, gint64 *step, const char **suffix)
{
  const char *end;
  if (!parse_step (name, step, &end))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (strcmp (end, suffixes[i]) == 0)
      {
        *suffix = suffixes[i];
        return TRUE;
      }
  return FALSE;
}

gboolean
_lf_checkpoint_temporary_target (const char *name, gint64 *step, const char **suffix)
{
  /* LfAtomicFile names them .NAME.leafio-tmp.RRRRRR.TTTTTTTT; it checks
   * the rest of the name itself. */
  const char *end;
  if (name[0] != '.' || !parse_step (name + 1, step, &end))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      gsize n = strlen (suffixes[i]);
      if (strncmp (end, suffixes[i], n) == 0 && g_str_has_prefix (end + n, ".leafio-tmp."))
        {
          *suffix = suffixes[i];
          return TRUE;
        }
    }
  return FALSE;
}

/* ---- metrics ----------------------------------------------------------------------- */

gboolean
_lf_checkpoint_check_metrics (LfNode *metrics, GError **error)
{
  if (metrics == NULL)
    return TRUE;
  if (lf_node_get_kind (metrics) != LF_NODE_DICT)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   "metrics must be a dict of scalars, not a %s",
                   lf_node_kind_name (lf_node_get_kind (metrics)));
      return FALSE;
    }
  for (gsize i = 0; i < lf_node_get_n_children (metrics); i++)
    {
      LfNode *value = lf_node_get_child (metrics, i);
      if (lf_node_get_kind (value) != LF_NODE_SCALAR
          || lf_dtype_is_complex (lf_scalar_get_dtype (value)))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       "metric '%s' must be a bool, integer or floating scalar",
                       lf_dict_get_key (metrics, i));
          return FALSE;
        }
    }
  return TRUE;
}

/* Numbers as JSON holds them; NaN and infinities as the strings Python's
 * float() reads. */
static void
add_metric (JsonBuilder *builder, const LfNode *value)
{
  LfDType dtype = lf_scalar_get_dtype (value);
  double number = lf_scalar_get_float (value);
  if (dtype == LF_DTYPE_BOOL)
    json_builder_add_boolean_value (builder, lf_scalar_get_bool (value));
  else if (lf_dtype_is_integer (dtype) && (lf_dtype_is_signed (dtype) || number < 0x1p63))
    json_builder_add_int_value (builder, lf_scalar_get_int (value));
  else if (isnan (number))
    json_builder_add_string_value (builder, "nan");
  else if (isinf (number))
    json_builder_add_string_value (builder, number > 0 ? "inf" : "-inf");
  else
    json_builder_add_double_value (builder, number);
}

static LfNode *
read_metric (JsonNode *node)
{
  if (!JSON_NODE_HOLDS_VALUE (node))
    return NULL;
  GType type = json_node_get_value_type (node);
  if (type == G_TYPE_BOOLEAN)
    return lf_scalar_new_bool (json_node_get_boolean (node));
  if (type == G_TYPE_INT64)
    return lf_scalar_new_int (json_node_get_int (node));
  if (type == G_TYPE_DOUBLE)
    return lf_scalar_new_float (json_node_get_double (node));
  const char *text = type == G_TYPE_STRING ? json_node_get_string (node) : "";
  if (strcmp (text, "nan") == 0)
    return lf_scalar_new_float (NAN);
  if (strcmp (text, "inf") == 0 || strcmp (text, "-inf") == 0)
    return lf_scalar_new_float (text[0] == '-' ? -INFINITY : INFINITY);
  return NULL;
}

static LfNode *
read_metrics (JsonObject *object)
{
  g_autoptr (GList) names = json_object_get_members (object);
  guint n = g_list_length (names);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) lf_node_unref);
  g_autofree const char **keys = g_new0 (const char *, n + 1);
  guint i = 0;
  for (GList *l = names; l != NULL; l = l->next, i++)
    {
      LfNode *value = read_metric (json_object_get_member (object, l->data));
      if (value == NULL)
        return NULL;
      keys[i] = l->data;
      g_ptr_array_add (values, value);
    }
  return lf_dict_new (n, keys, (LfNode *const *) values->pdata);
}

/* ---- commit records ---------------------------------------------------------------- */

static void
add_record (JsonBuilder *builder, const LfStepRecord *record, gboolean committed)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, RECORD_FORMAT);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, RECORD_VERSION);
  json_builder_set_member_name (builder, "step");
  json_builder_add_int_value (builder, record->step);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, committed ? "committed" : "pending");
  if (committed)
    {
      g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (record->time / G_USEC_PER_SEC);
      g_autoptr (GDateTime) exact = g_date_time_add (time, record->time % G_USEC_PER_SEC);
      g_autofree char *iso = g_date_time_format_iso8601 (exact);
      json_builder_set_member_name (builder, "time");
      json_builder_add_string_value (builder, iso);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64) record->size);
      json_builder_set_member_name (builder, "metrics");
      json_builder_begin_object (builder);
      for (gsize i = 0; record->metrics != NULL && i < lf_node_get_n_children (record->metrics); i++)
        {
          json_builder_set_member_name (builder, lf_dict_get_key (record->metrics, i));
          add_metric (builder, lf_node_get_child (record->metrics, i));
        }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

static char *
builder_text (JsonBuilder *builder, gboolean pretty, gsize *length)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, pretty);
  json_generator_set_indent (generator, 1);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, length);
}

static char *
record_text (const LfStepRecord *record, gboolean committed, gsize *length)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  add_record (builder, record, committed);
  return builder_text (builder, TRUE, length);
}

gboolean
_lf_checkpoint_write_record (const char *directory, const LfStepRecord *record,
                             gboolean committed, GError **error)
{
  g_autofree char *path = _lf_checkpoint_file (directory, record->step, LF_CHECKPOINT_RECORD);
  gsize length;
  g_autofree char *text = record_text (record, committed, &length);
  g_autoptr (LfAtomicFile) file = lf_atomic_file_new (path, error);
  if (file == NULL)
    return FALSE;
  g_autoptr (LfStream) stream = lf_stream_new_for_fd (lf_atomic_file_get_fd (file), FALSE);
  lf_stream_set_name (stream, path);
  return lf_stream_write (stream, text, length, error) && lf_stream_flush (stream, error)
         && lf_atomic_file_commit (file, TRUE, error);
}

static gboolean
parse_record (JsonObject *object, gint64 step, LfStepRecord *record, gboolean *committed)
{
  JsonNode *format = json_object_get_member (object, "format");
  JsonNode *version = json_object_get_member (object, "version");
  JsonNode *step_node = json_object_get_member (object, "step");
  JsonNode *state = json_object_get_member (object, "state");
  if (format == NULL || g_strcmp0 (json_node_get_string (format), RECORD_FORMAT) != 0
      || version == NULL || json_node_get_value_type (version) != G_TYPE_INT64
      || json_node_get_int (version) != RECORD_VERSION
      || step_node == NULL || json_node_get_value_type (step_node) != G_TYPE_INT64
      || json_node_get_int (step_node) != step || state == NULL
      || json_node_get_value_type (state) != G_TYPE_STRING)
    return FALSE;
  record->step = step;
  *committed = strcmp (json_node_get_string (state), "committed") == 0;
  if (!*committed)
    return strcmp (json_node_get_string (state), "pending") == 0;
  JsonNode *time = json_object_get_member (object, "time");
  JsonNode *size = json_object_get_member (object, "size");
  JsonNode *metrics = json_object_get_member (object, "metrics");
  if (time == NULL || json_node_get_value_type (time) != G_TYPE_STRING || size == NULL
      || json_node_get_value_type (size) != G_TYPE_INT64 || json_node_get_int (size) < 0
      || metrics == NULL || !JSON_NODE_HOLDS_OBJECT (metrics))
    return FALSE;
  g_autoptr (GDateTime) when = g_date_time_new_from_iso8601 (json_node_get_string (time), NULL);
  if (when == NULL)
    return FALSE;
  record->time = g_date_time_to_unix (when) * G_USEC_PER_SEC + g_date_time_get_microsecond (when);
  record->size = (guint64) json_node_get_int (size);
  record->metrics = read_metrics (json_node_get_object (metrics));
  return record->metrics != NULL;
}

gboolean
_lf_checkpoint_read_record (const char *path, gint64 step, LfStepRecord *record,
                            gboolean *committed, GError **error)
{
  /* Read as a side file: a record that is a FIFO or a link to a device
   * (a shared directory, a stray mkfifo) is refused instead of blocking
   * the listing or reading without end. */
  gsize length;
  g_autofree char *text = lf_read_side_file (path, LF_SIDE_FILE_MAX, &length, error);
  if (text == NULL)
    return FALSE;
  g_autoptr (JsonNode) root = _lf_json_parse (text, (gssize) length, path, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root)
      || !parse_record (json_node_get_object (root), step, record, committed))
    {
      _lf_step_record_clear (record);
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE,
                   "%s is not a commit record of step %" G_GINT64_FORMAT, path, step);
      return FALSE;
    }
  return TRUE;
}

/* ---- the steps rank 0 sends to a group's other ranks -------------------------------- */

/* A JSON array of the committed records, so the other ranks read exactly
 * what a manager opening the directory would. */
GBytes *
_lf_checkpoint_steps_to_bytes (GArray *steps)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; i < steps->len; i++)
    add_record (builder, &g_array_index (steps, LfStepRecord, i), TRUE);
  json_builder_end_array (builder);
  gsize length;
  char *text = builder_text (builder, FALSE, &length);
  return g_bytes_new_take (text, length);
}

GArray *
_lf_checkpoint_steps_from_bytes (GBytes *bytes, GError **error)
{
  const char *what = "the steps rank 0 sent";
  gsize size;
  const char *text = g_bytes_get_data (bytes, &size);
  g_autoptr (JsonNode) root = _lf_json_parse (text, (gssize) size, what, error);
  if (root == NULL)
    return NULL;
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (root) ? json_node_get_array (root) : NULL;
  GArray *steps = g_array_new (FALSE, TRUE, sizeof (LfStepRecord));
  g_array_set_clear_func (steps, _lf_step_record_clear);
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      JsonNode *step = object != NULL ? json_object_get_member (object, "step") : NULL;
      LfStepRecord record = { 0 };
      gboolean committed = FALSE;
      if (step == NULL || json_node_get_value_type (step) != G_TYPE_INT64
          || !parse_record (object, json_node_get_int (step), &record, &committed) || !committed)
        {
          _lf_step_record_clear (&record);
          g_clear_pointer (&steps, g_array_unref);
          break;
        }
      g_array_append_val (steps, record);
    }
  if (array == NULL)
    g_clear_pointer (&steps, g_array_unref);
  if (steps == NULL)
    g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s are not a list of commit records", what);
  return steps;
}
