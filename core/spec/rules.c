/* Path rules: ordered `PATTERN = CODEC` lines, first match wins.
 *
 *   # comment
 *   .layers[*].weight = float16
 *   .embedding.*      = compressed(level=19)   # trailing comment
 *   *                 = npy
 *
 * Syntax: a line is split at its first '=' outside quotes; the pattern is
 * what comes before it, the codec reference what follows (which may hold
 * more '=', as in `compressed(level=19)`), both trimmed.  A '#' outside
 * quotes starts a comment.  Quotes ('...' or "...", with backslash escapes,
 * as keystr writes dict keys) protect '=' and '#' in dict keys.
 *
 * Patterns are GPatternSpec globs over the whole keystr path: only `*`
 * (any run of characters, possibly empty, across key boundaries) and `?`
 * (one character) are special; brackets, dots and quotes are literal, and
 * there is no escape.  So `.layers[*].weight` matches `.layers[0].weight`
 * and `.layers[12].weight`, but also `.layers[0].mlp[1].weight`, because
 * `*` runs over "0].mlp[1"; write `.layers[?].weight` to match one-digit
 * indices only.  keystr paths start with '.' or '[' (or are empty, for a
 * tree that is a single leaf), so a pattern starting with anything but
 * '.', '[', '*' or '?' can never match and is refused.
 *
 * Each pattern is compiled once, at parse time.  Selecting a leaf's codec
 * tries the rules in order; no rule matching means the default codec. */
#include "config.h"
#include <string.h>
#include "spec-private.h"

typedef struct {
  guint line;
  char *text;            /* the rule as written, for messages */
  GPatternSpec *pattern;
  LfCodec *codec;
  gint used;             /* set (atomically) when a leaf picked this rule */
  gboolean reversed;     /* GPatternSpec matches it back to front */
  /* The literal text before the first and after the last wildcard: a
   * path that does not start and end with them cannot match, which two
   * memcmp() tell faster than the glob matcher. */
  char *head, *tail;
  gsize head_length, tail_length;
} Rule;

struct _LfRules {
  char *source;          /* "rules" or the file name, for messages */
  Rule *rules;
  guint n_rules;
  LfCodec *default_codec;
  gboolean want_reversed; /* some pattern is matched back to front */
};

static void
rules_free (LfRules *rules)
{
  if (rules == NULL)
    return;
  for (guint i = 0; i < rules->n_rules; i++)
    {
      g_free (rules->rules[i].text);
      g_free (rules->rules[i].head);
      g_free (rules->rules[i].tail);
      g_pattern_spec_free (rules->rules[i].pattern);
      lf_codec_unref (rules->rules[i].codec);
    }
  g_free (rules->rules);
  lf_codec_unref (rules->default_codec);
  g_free (rules->source);
  g_free (rules);
}

/* Whether GPatternSpec matches `pattern` against the reversed string (and
 * reverses the string itself, an allocation, when not given it): when the
 * pattern has a '?' or more than a lone leading or trailing run of '*', and
 * more literal text after its last wildcard than before its first. */
static gboolean
matches_reversed (const char *pattern)
{
  const char *first = strpbrk (pattern, "*?");
  if (first == NULL)
    return FALSE;
  const char *last = first;
  gboolean joker = FALSE, more_stars = FALSE;
  for (const char *p = first; *p != '\0'; p++)
    if (*p == '*' || *p == '?')
      {
        joker |= *p == '?';
        more_stars |= *p == '*' && p > last + 1;
        last = p;
      }
  if (!joker && !more_stars && (first == pattern || last[1] == '\0'))
    return FALSE;
  return strlen (last + 1) > (gsize) (first - pattern);
}

static gboolean
rule_matches (const Rule *rule, gsize length, const char *text, const char *reversed)
{
  if (length < rule->head_length + rule->tail_length
      || memcmp (text, rule->head, rule->head_length) != 0
      || memcmp (text + length - rule->tail_length, rule->tail, rule->tail_length) != 0)
    return FALSE;
#if GLIB_CHECK_VERSION(2, 70, 0)
  return g_pattern_spec_match (rule->pattern, length, text, reversed);
#else
  return g_pattern_match (rule->pattern, (guint) length, text, reversed);
#endif
}

/* Index of the first rule matching `text`, or -1. */
static gint
find_rule (LfRules *rules, const char *text)
{
  gsize length = strlen (text);
  char stack_buffer[256];
  char *heap_reversed = NULL;
  const char *reversed = NULL;

  if (rules->want_reversed)
    {
      gboolean ascii = length < sizeof stack_buffer;
      for (gsize i = 0; ascii && i < length; i++)
        {
          if ((guchar) text[i] >= 0x80)
            ascii = FALSE;
          stack_buffer[length - 1 - i] = text[i];
        }
      if (ascii)
        {
          stack_buffer[length] = '\0';
          reversed = stack_buffer;
        }
      else
        reversed = heap_reversed = g_utf8_strreverse (text, (gssize) length);
    }

  gint found = -1;
  for (guint i = 0; i < rules->n_rules && found < 0; i++)
    if (rule_matches (&rules->rules[i], length, text, reversed))
      found = (gint) i;
  g_free (heap_reversed);
  return found;
}

/* The walker's LfRulesSelectFunc. */
static LfCodec *
rules_select (LfRules *rules, const char *path_text)
{
  g_return_val_if_fail (rules != NULL, NULL);
  g_return_val_if_fail (path_text != NULL, NULL);

  gint i = find_rule (rules, path_text);
  if (i < 0)
    return rules->default_codec;
  Rule *rule = &rules->rules[i];
  if (!g_atomic_int_get (&rule->used))
    g_atomic_int_set (&rule->used, 1);
  return rule->codec;
}

/* ---- parsing -------------------------------------------------------------- */

/* Cuts `line` at a '#' comment and finds its first '=', both outside
 * quotes.  Returns NULL for a line that is blank once the comment is cut,
 * the '=' otherwise; `problem` is set when the line is malformed. */
static char *
split_line (char *line, const char **problem)
{
  char quote = 0;
  char *equals = NULL;
  for (char *p = line; *p != '\0'; p++)
    {
      if (quote != 0)
        {
          if (*p == '\\' && p[1] != '\0')
            p++;
          else if (*p == quote)
            quote = 0;
        }
      else if (*p == '\'' || *p == '"')
        quote = *p;
      else if (*p == '#')
        {
          *p = '\0';
          break;
        }
      else if (*p == '=' && equals == NULL)
        equals = p;
    }
  /* Not g_strstrip: it moves the text, and `equals` points into it. */
  const char *p = line;
  while (g_ascii_isspace (*p))
    p++;
  if (*p == '\0')
    return NULL;
  if (quote != 0)
    *problem = "unterminated quote";
  else if (equals == NULL)
    *problem = "expected PATTERN = CODEC";
  return equals;
}

/* Parses one non-blank rule line into `rule`. */
static gboolean
parse_rule (LfRegistry *registry, char *line, char *equals, Rule *rule, GError **error)
{
  *equals = '\0';
  char *pattern = g_strstrip (line);
  char *reference = g_strstrip (equals + 1);

  if (*pattern == '\0')
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE,
                   "no pattern before '=' (use * to match every leaf)");
      return FALSE;
    }
  if (strchr (".[*?", *pattern) == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE,
                   "pattern \"%s\" can never match: keystr paths start with '.' or '[' "
                   "(did you mean \".%s\"?)", pattern, pattern);
      return FALSE;
    }
  if (*reference == '\0')
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "no codec after '=' in \"%s =\"",
                   pattern);
      return FALSE;
    }
  rule->codec = lf_registry_resolve (registry, reference, error);
  if (rule->codec == NULL)
    return FALSE;
  rule->pattern = g_pattern_spec_new (pattern);
  rule->reversed = matches_reversed (pattern);
  const char *first = strpbrk (pattern, "*?");
  rule->head_length = first != NULL ? (gsize) (first - pattern) : strlen (pattern);
  rule->head = g_strndup (pattern, rule->head_length);
  const char *after_last = pattern + rule->head_length;
  for (const char *p = after_last; *p != '\0'; p++)
    if (*p == '*' || *p == '?')
      after_last = p + 1;
  rule->tail_length = first != NULL ? strlen (after_last) : 0;
  rule->tail = g_strndup (after_last, rule->tail_length);
  rule->text = g_strdup_printf ("%s = %s", pattern, reference);
  return TRUE;
}

static LfRules *
parse_rules (LfRegistry *registry, const char *source, const char *text,
             const char *default_reference, GError **error)
{
  const char *invalid;
  if (!g_utf8_validate (text, -1, &invalid))
    {
      guint line = 1;
      for (const char *p = text; p < invalid; p++)
        line += *p == '\n';
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s line %u: not valid UTF-8",
                   source, line);
      return NULL;
    }

  LfRules *rules = g_new0 (LfRules, 1);
  rules->source = g_strdup (source);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  rules->rules = g_new0 (Rule, g_strv_length (lines));

  for (guint n = 0; lines[n] != NULL; n++)
    {
      const char *problem = NULL;
      char *equals = split_line (lines[n], &problem);
      if (problem != NULL)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s line %u: %s: \"%s\"", source,
                       n + 1, problem, g_strstrip (lines[n]));
          goto fail;
        }
      if (equals == NULL)
        continue;
      Rule *rule = &rules->rules[rules->n_rules];
      rule->line = n + 1;
      if (!parse_rule (registry, lines[n], equals, rule, error))
        {
          g_prefix_error (error, "%s line %u: ", source, n + 1);
          goto fail;
        }
      rules->n_rules++;
      rules->want_reversed |= rule->reversed;
    }

  rules->default_codec = lf_registry_resolve (registry, default_reference, error);
  if (rules->default_codec == NULL)
    {
      g_prefix_error (error, "%s: default codec: ", source);
      goto fail;
    }
  return rules;

fail:
  rules_free (rules);
  return NULL;
}

LfSpec *
lf_spec_parse_rules (LfRegistry *registry, const char *text,
                     const char *default_reference, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  LfRules *rules = parse_rules (registry != NULL ? registry : lf_registry_get_default (),
                                "rules", text,
                                default_reference != NULL ? default_reference : LF_CODEC_DEFAULT,
                                error);
  return rules != NULL
         ? _lf_spec_new_rules (rules, rules_select, (GDestroyNotify) rules_free) : NULL;
}

LfSpec *
lf_spec_load_rules_file (LfRegistry *registry, const char *filename,
                         const char *default_reference, GError **error)
{
  g_return_val_if_fail (filename != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  gsize length;
  g_autofree char *text = lf_read_side_file (filename, LF_SIDE_FILE_MAX, &length, error);
  if (text == NULL)
    return NULL;
  if (memchr (text, '\0', length) != NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_PARSE, "%s: contains a NUL byte", filename);
      return NULL;
    }
  LfRules *rules = parse_rules (registry != NULL ? registry : lf_registry_get_default (),
                                filename, text,
                                default_reference != NULL ? default_reference : LF_CODEC_DEFAULT,
                                error);
  return rules != NULL
         ? _lf_spec_new_rules (rules, rules_select, (GDestroyNotify) rules_free) : NULL;
}

/* ---- strict mode ------------------------------------------------------------ */

typedef struct {
  LfRules *rules;
  GString *text;
  gboolean *used;
} UsageWalk;

static gboolean
mark_rule_used (const LfPath *path, LfNode *leaf, gpointer user_data)
{
  UsageWalk *walk = user_data;
  g_string_truncate (walk->text, 0);
  lf_path_append_to (path, walk->text);
  gint i = find_rule (walk->rules, walk->text->str);
  if (i >= 0)
    walk->used[i] = TRUE;
  return TRUE;
}

gboolean
lf_spec_check_rules_used (LfSpec *spec, LfNode *tree, LfIsLeafFunc is_leaf,
                          gpointer is_leaf_data, GError **error)
{
  g_return_val_if_fail (tree != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (spec == NULL || spec->kind != LF_SPEC_RULES)
    return TRUE;

  /* Recomputed here rather than read from the `used` marks, which depend
   * on what was saved or loaded before. */
  LfRules *rules = spec->rules;
  g_autofree gboolean *used = g_new0 (gboolean, rules->n_rules + 1);
  UsageWalk walk = { rules, g_string_sized_new (128), used };
  lf_tree_foreach_leaf (tree, is_leaf, is_leaf_data, mark_rule_used, &walk);
  g_string_free (walk.text, TRUE);

  g_autoptr (GString) unused = g_string_new (NULL);
  guint n_unused = 0;
  for (guint i = 0; i < rules->n_rules; i++)
    if (!used[i])
      {
        g_string_append_printf (unused, "%sline %u (%s)", n_unused > 0 ? ", " : "",
                                rules->rules[i].line, rules->rules[i].text);
        n_unused++;
      }
  if (n_unused == 0)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_SPEC, "%s: %u %s no leaf: %s", rules->source,
               n_unused, n_unused == 1 ? "rule matches" : "rules match", unused->str);
  return FALSE;
}
