/* Leaf paths and their keystr text: `[1]['a'].weight`. */
#include "config.h"
#include <stdarg.h>
#include <string.h>
#include "tree-private.h"

static void
key_clear (gpointer data)
{
  LfPathKey *key = data;
  g_clear_pointer (&key->name, g_free);
}

LfPath *
lf_path_new (void)
{
  LfPath *path = g_new (LfPath, 1);
  path->keys = g_array_new (FALSE, FALSE, sizeof (LfPathKey));
  g_array_set_clear_func (path->keys, key_clear);
  return path;
}

LfPath *
lf_path_copy (const LfPath *path)
{
  g_return_val_if_fail (path != NULL, NULL);
  LfPath *copy = lf_path_new ();
  for (guint i = 0; i < path->keys->len; i++)
    {
      LfPathKey key = g_array_index (path->keys, LfPathKey, i);
      key.name = g_strdup (key.name);
      g_array_append_val (copy->keys, key);
    }
  return copy;
}

void
lf_path_free (LfPath *path)
{
  if (path == NULL)
    return;
  g_array_unref (path->keys);
  g_free (path);
}

static void
push (LfPath *path, LfKeyKind kind, gint64 index, const char *name)
{
  LfPathKey key = { kind, index, g_strdup (name) };
  g_array_append_val (path->keys, key);
}

void
lf_path_push_index (LfPath *path, gint64 index)
{
  g_return_if_fail (path != NULL);
  push (path, LF_KEY_INDEX, index, NULL);
}

void
lf_path_push_key (LfPath *path, const char *key)
{
  g_return_if_fail (path != NULL);
  g_return_if_fail (key != NULL);
  push (path, LF_KEY_DICT, 0, key);
}

void
lf_path_push_field (LfPath *path, const char *field)
{
  g_return_if_fail (path != NULL);
  g_return_if_fail (field != NULL);
  push (path, LF_KEY_FIELD, 0, field);
}

void
lf_path_pop (LfPath *path)
{
  g_return_if_fail (path != NULL);
  g_return_if_fail (path->keys->len > 0);
  g_array_set_size (path->keys, path->keys->len - 1);
}

gsize
lf_path_get_length (const LfPath *path)
{
  g_return_val_if_fail (path != NULL, 0);
  return path->keys->len;
}

static const LfPathKey *
key_at (const LfPath *path, gsize i)
{
  return &g_array_index (path->keys, LfPathKey, i);
}

LfKeyKind
lf_path_get_kind (const LfPath *path, gsize i)
{
  g_return_val_if_fail (path != NULL, LF_KEY_INDEX);
  g_return_val_if_fail (i < path->keys->len, LF_KEY_INDEX);
  return key_at (path, i)->kind;
}

gint64
lf_path_get_index (const LfPath *path, gsize i)
{
  g_return_val_if_fail (path != NULL, 0);
  g_return_val_if_fail (i < path->keys->len, 0);
  g_return_val_if_fail (key_at (path, i)->kind == LF_KEY_INDEX, 0);
  return key_at (path, i)->index;
}

const char *
lf_path_get_name (const LfPath *path, gsize i)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (i < path->keys->len, NULL);
  g_return_val_if_fail (key_at (path, i)->kind != LF_KEY_INDEX, NULL);
  return key_at (path, i)->name;
}

/* ---- keystr text ------------------------------------------------------------ */

/* Python's str.isprintable() for one character: everything but control,
 * format, surrogate, private-use, unassigned and separator characters
 * (except the ASCII space). */
static gboolean
is_printable (gunichar c)
{
  if (c == ' ')
    return TRUE;
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_SPACE_SEPARATOR:
      return FALSE;
    default:
      return TRUE;
    }
}

/* Appends repr(s) as Python writes it: single quotes unless the string
 * has a ' and no ", escapes for the backslash, the quote in use, \t \n \r
 * and unprintable characters.  Bytes that are not UTF-8 (which a Python
 * str cannot hold) are written as \xNN. */
static void
append_repr (GString *out, const char *s)
{
  char quote = (strchr (s, '\'') != NULL && strchr (s, '"') == NULL) ? '"' : '\'';
  gsize len = strlen (s);
  const char *end = s + len;

  g_string_append_c (out, quote);
  for (const char *p = s; p < end;)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guint) (guchar) *p);
          p++;
          continue;
        }
      const char *next = g_utf8_next_char (p);
      if (c == (gunichar) quote || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c < 0x80 ? (c >= 0x20 && c < 0x7f) : is_printable (c))
        g_string_append_len (out, p, next - p);
      else if (c <= 0xff)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c <= 0xffff)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_printf (out, "\\U%08x", c);
      p = next;
    }
  g_string_append_c (out, quote);
}

void
lf_path_key_append_to (const LfPathKey *key, GString *out)
{
  switch (key->kind)
    {
    case LF_KEY_INDEX:
      g_string_append_printf (out, "[%" G_GINT64_FORMAT "]", key->index);
      break;
    case LF_KEY_DICT:
      g_string_append_c (out, '[');
      append_repr (out, key->name);
      g_string_append_c (out, ']');
      break;
    case LF_KEY_FIELD:
      g_string_append_c (out, '.');
      g_string_append (out, key->name);
      break;
    }
}

void
lf_path_append_to (const LfPath *path, GString *out)
{
  g_return_if_fail (path != NULL);
  g_return_if_fail (out != NULL);
  for (guint i = 0; i < path->keys->len; i++)
    lf_path_key_append_to (key_at (path, i), out);
}

char *
lf_path_to_string (const LfPath *path)
{
  g_return_val_if_fail (path != NULL, NULL);
  GString *out = g_string_new (NULL);
  lf_path_append_to (path, out);
  return g_string_free (out, FALSE);
}

/* ---- parsing ------------------------------------------------------------------ */

typedef struct {
  const char *text;
  const char *p;
  GError **error;
} Parser;

static gboolean G_GNUC_PRINTF (3, 4)
parse_fail_at (Parser *ps, const char *at, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ps->error, LF_ERROR, LF_ERROR_PARSE,
               "cannot parse path \"%s\": %s at position %" G_GSIZE_FORMAT,
               ps->text, what, (gsize) (at - ps->text));
  return FALSE;
}

static gboolean
is_ident_start (guchar c)
{
  return g_ascii_isalpha (c) || c == '_' || c >= 0x80;
}

static gboolean
is_ident_char (guchar c)
{
  return is_ident_start (c) || g_ascii_isdigit (c);
}

static gboolean
parse_index (Parser *ps, gint64 *index)
{
  const char *start = ps->p;
  gboolean negative = *ps->p == '-';
  if (negative)
    ps->p++;
  if (!g_ascii_isdigit (*ps->p))
    return parse_fail_at (ps, ps->p, "expected a digit");
  /* accumulate as a negative number so G_MININT64 parses too */
  gint64 value = 0;
  while (g_ascii_isdigit (*ps->p))
    {
      int digit = *ps->p - '0';
      if (value < (G_MININT64 + digit) / 10)
        return parse_fail_at (ps, start, "index out of range");
      value = value * 10 - digit;
      ps->p++;
    }
  if (!negative)
    {
      if (value == G_MININT64)
        return parse_fail_at (ps, start, "index out of range");
      value = -value;
    }
  *index = value;
  return TRUE;
}

static int
hex_value (char c)
{
  return g_ascii_xdigit_value (c);
}

/* Parses a quoted string as Python reads the repr of a str: either quote
 * style, with \\ \' \" \t \n \r \xNN \uNNNN \UNNNNNNNN escapes. */
static char *
parse_quoted (Parser *ps)
{
  char quote = *ps->p++;
  GString *out = g_string_new (NULL);
  for (;;)
    {
      const char *at = ps->p;
      char c = *ps->p;
      if (c == '\0')
        {
          parse_fail_at (ps, at, "unterminated string");
          goto fail;
        }
      ps->p++;
      if (c == quote)
        break;
      if (c != '\\')
        {
          g_string_append_c (out, c);
          continue;
        }
      char e = *ps->p++;
      int digits = 0;
      switch (e)
        {
        case '\\': case '\'': case '"':
          g_string_append_c (out, e);
          continue;
        case 't': g_string_append_c (out, '\t'); continue;
        case 'n': g_string_append_c (out, '\n'); continue;
        case 'r': g_string_append_c (out, '\r'); continue;
        case 'x': digits = 2; break;
        case 'u': digits = 4; break;
        case 'U': digits = 8; break;
        default:
          ps->p = at;
          parse_fail_at (ps, at, "unknown escape");
          goto fail;
        }
      gunichar u = 0;
      for (int i = 0; i < digits; i++)
        {
          int h = hex_value (*ps->p);
          if (h < 0)
            {
              parse_fail_at (ps, at, "truncated \\%c escape", e);
              goto fail;
            }
          u = u * 16 + (gunichar) h;
          ps->p++;
        }
      if (u == 0 || !g_unichar_validate (u))
        {
          parse_fail_at (ps, at, "escape names no valid character");
          goto fail;
        }
      g_string_append_unichar (out, u);
    }
  if (!g_utf8_validate (out->str, out->len, NULL))
    {
      parse_fail_at (ps, ps->p, "key is not valid UTF-8");
      goto fail;
    }
  return g_string_free (out, FALSE);

fail:
  g_string_free (out, TRUE);
  return NULL;
}

LfPath *
lf_path_parse (const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  Parser ps = { text, text, error };
  g_autoptr (LfPath) path = lf_path_new ();
  while (*ps.p != '\0')
    {
      const char *at = ps.p;
      if (*ps.p == '.')
        {
          ps.p++;
          if (!is_ident_start ((guchar) *ps.p))
            {
              parse_fail_at (&ps, ps.p, "expected a field name");
              return NULL;
            }
          const char *start = ps.p;
          while (is_ident_char ((guchar) *ps.p))
            ps.p++;
          g_autofree char *name = g_strndup (start, ps.p - start);
          if (!g_utf8_validate (name, -1, NULL))
            {
              parse_fail_at (&ps, start, "field name is not valid UTF-8");
              return NULL;
            }
          lf_path_push_field (path, name);
        }
      else if (*ps.p == '[')
        {
          ps.p++;
          if (*ps.p == '\'' || *ps.p == '"')
            {
              g_autofree char *key = parse_quoted (&ps);
              if (key == NULL)
                return NULL;
              lf_path_push_key (path, key);
            }
          else if (*ps.p == '-' || g_ascii_isdigit (*ps.p))
            {
              gint64 index = 0;
              if (!parse_index (&ps, &index))
                return NULL;
              lf_path_push_index (path, index);
            }
          else
            {
              parse_fail_at (&ps, ps.p, "expected an index or a quoted key");
              return NULL;
            }
          if (*ps.p != ']')
            {
              parse_fail_at (&ps, ps.p, "expected ']'");
              return NULL;
            }
          ps.p++;
        }
      else
        {
          parse_fail_at (&ps, at, "expected '.' or '['");
          return NULL;
        }
    }
  return g_steal_pointer (&path);
}
