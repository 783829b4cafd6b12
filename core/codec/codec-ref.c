/* The text form of codec references:
 *
 *   reference := name [ "(" [ option { "," option } ] ")" ]
 *   option    := key "=" value
 *   value     := reference | quoted string
 *   name, key := one or more of [A-Za-z0-9_.+-]
 *
 * e.g. `compressed(level=19, inner=float16(overflow=error))`.  Errors say
 * where in the text and what was expected. */
#include "config.h"
#include <string.h>
#include "codec-private.h"

#define MAX_DEPTH 32

typedef struct {
  const char *text;
  const char *p;
  GError **error;
} Parser;

/* The reference as messages quote it: control characters as \xHH (a
 * reference may come from a file: a manifest, a spec) and at most
 * QUOTE_MAX bytes, so neither a terminal nor a log gets it raw. */
#define QUOTE_MAX 200

static char *
quote_text (const char *text)
{
  GString *out = g_string_new (NULL);
  const guchar *p = (const guchar *) text;
  for (; *p != '\0' && out->len < QUOTE_MAX; p++)
    if (*p < 0x20 || *p == 0x7f)
      g_string_append_printf (out, "\\x%02x", *p);
    else
      g_string_append_c (out, (char) *p);
  if (*p != '\0')
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static gboolean
fail (Parser *ps, const char *expected)
{
  gsize pos = (gsize) (ps->p - ps->text);
  g_autofree char *text = quote_text (ps->text);
  if (*ps->p == '\0')
    g_set_error (ps->error, LF_ERROR, LF_ERROR_PARSE,
                 "codec reference '%s': expected %s at the end (position %" G_GSIZE_FORMAT ")",
                 text, expected, pos);
  else if (g_ascii_isprint (*ps->p))
    g_set_error (ps->error, LF_ERROR, LF_ERROR_PARSE,
                 "codec reference '%s': expected %s at position %" G_GSIZE_FORMAT
                 ", found '%c'", text, expected, pos, *ps->p);
  else
    g_set_error (ps->error, LF_ERROR, LF_ERROR_PARSE,
                 "codec reference '%s': expected %s at position %" G_GSIZE_FORMAT
                 ", found byte 0x%02x", text, expected, pos, (guchar) *ps->p);
  return FALSE;
}

static void
skip_space (Parser *ps)
{
  while (g_ascii_isspace (*ps->p))
    ps->p++;
}

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '.' || c == '+' || c == '-';
}

static char *
parse_word (Parser *ps, const char *what)
{
  const char *start = ps->p;
  while (is_word_char (*ps->p))
    ps->p++;
  if (ps->p == start)
    {
      fail (ps, what);
      return NULL;
    }
  return g_strndup (start, (gsize) (ps->p - start));
}

static char *
parse_quoted (Parser *ps)
{
  char quote = *ps->p++;
  GString *out = g_string_new (NULL);
  while (*ps->p != quote)
    {
      if (*ps->p == '\0')
        {
          fail (ps, "a closing quote");
          g_string_free (out, TRUE);
          return NULL;
        }
      if (*ps->p == '\\' && ps->p[1] != '\0')
        ps->p++;
      g_string_append_c (out, *ps->p++);
    }
  ps->p++;
  return g_string_free (out, FALSE);
}

static LfRefAst *
ast_new (char *name)
{
  LfRefAst *ast = g_new0 (LfRefAst, 1);
  ast->name = name;
  ast->keys = g_ptr_array_new_with_free_func (g_free);
  ast->values = g_ptr_array_new_with_free_func ((GDestroyNotify) _lf_ref_free);
  return ast;
}

void
_lf_ref_free (LfRefAst *ast)
{
  if (ast == NULL)
    return;
  g_free (ast->name);
  g_ptr_array_unref (ast->keys);
  g_ptr_array_unref (ast->values);
  g_free (ast);
}

static LfRefAst *parse_reference (Parser *ps, guint depth);

static gboolean
parse_options (Parser *ps, LfRefAst *ast, guint depth)
{
  ps->p++; /* '(' */
  ast->has_options = TRUE;
  skip_space (ps);
  if (*ps->p == ')')
    {
      ps->p++;
      return TRUE;
    }
  for (;;)
    {
      skip_space (ps);
      char *key = parse_word (ps, "an option name");
      if (key == NULL)
        return FALSE;
      for (guint i = 0; i < ast->keys->len; i++)
        if (strcmp (g_ptr_array_index (ast->keys, i), key) == 0)
          {
            ps->p -= strlen (key);
            g_free (key);
            return fail (ps, "each option once");
          }
      g_ptr_array_add (ast->keys, key);
      skip_space (ps);
      if (*ps->p != '=')
        return fail (ps, "'=' after the option name");
      ps->p++;
      skip_space (ps);
      LfRefAst *value;
      if (*ps->p == '\'' || *ps->p == '"')
        {
          char *text = parse_quoted (ps);
          if (text == NULL)
            return FALSE;
          value = ast_new (text);
          value->quoted = TRUE;
        }
      else
        {
          value = parse_reference (ps, depth + 1);
          if (value == NULL)
            return FALSE;
        }
      g_ptr_array_add (ast->values, value);
      skip_space (ps);
      if (*ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (*ps->p == ')')
        {
          ps->p++;
          return TRUE;
        }
      return fail (ps, "',' or ')'");
    }
}

static LfRefAst *
parse_reference (Parser *ps, guint depth)
{
  if (depth > MAX_DEPTH)
    {
      fail (ps, "less nesting");
      return NULL;
    }
  skip_space (ps);
  char *name = parse_word (ps, depth == 0 ? "a codec name" : "a value");
  if (name == NULL)
    return NULL;
  LfRefAst *ast = ast_new (name);
  skip_space (ps);
  if (*ps->p == '(' && !parse_options (ps, ast, depth))
    {
      _lf_ref_free (ast);
      return NULL;
    }
  return ast;
}

LfRefAst *
_lf_ref_parse (const char *text, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  Parser ps = { text, text, error };
  LfRefAst *ast = parse_reference (&ps, 0);
  if (ast == NULL)
    return NULL;
  skip_space (&ps);
  if (*ps.p != '\0')
    {
      fail (&ps, "the end of the reference");
      _lf_ref_free (ast);
      return NULL;
    }
  return ast;
}

static gboolean
needs_quotes (const char *s)
{
  if (*s == '\0')
    return TRUE;
  for (; *s; s++)
    if (!is_word_char (*s))
      return TRUE;
  return FALSE;
}

void
_lf_ref_append (const LfRefAst *ast, GString *out)
{
  if (ast->quoted && needs_quotes (ast->name))
    {
      g_string_append_c (out, '\'');
      for (const char *s = ast->name; *s; s++)
        {
          if (*s == '\'' || *s == '\\')
            g_string_append_c (out, '\\');
          g_string_append_c (out, *s);
        }
      g_string_append_c (out, '\'');
    }
  else
    g_string_append (out, ast->name);
  if (ast->keys->len == 0)
    return;
  g_string_append_c (out, '(');
  for (guint i = 0; i < ast->keys->len; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      g_string_append_printf (out, "%s=", (const char *) g_ptr_array_index (ast->keys, i));
      _lf_ref_append (g_ptr_array_index (ast->values, i), out);
    }
  g_string_append_c (out, ')');
}
