/* An array's values as text, laid out as numpy's array2string lays them
 * out with its default options (so `leafio show` reads like `print(a)`):
 * 75 columns, arrays of over 1000 elements summarised with "..." and 3
 * items at each edge, floats in the shortest form that reads back as the
 * same value of their dtype, at most 8 fractional digits, aligned on the
 * point, in scientific notation when the magnitudes span too much. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-private.h"

#define LINE_WIDTH 75
#define THRESHOLD 1000
#define EDGE_ITEMS 3
#define PRECISION 8

/* ---- one float in its shortest form ---------------------------------------- */

/* printf's %.Ne, %.Nf or %.Ng of x (`conversion`), with a '.' whatever the
 * locale says. */
static void
format_double (char *buffer, gsize size, char conversion, int precision, double x)
{
  char format[16];
  g_snprintf (format, sizeof format, "%%.%d%c", precision, conversion);
  g_ascii_formatd (buffer, (gint) size, format, x);
}

/* Whether `text` reads back as `x` once rounded to `dtype`. */
static gboolean
reads_back (const char *text, double x, LfDType dtype)
{
  LfElement element = { .kind = LF_ELEMENT_FLOAT, .re = g_ascii_strtod (text, NULL) };
  guint8 buffer[8];
  lf_element_write (&element, dtype, buffer);
  LfElement back;
  lf_element_read (dtype, buffer, &back);
  return back.re == x;
}

/* The shortest significant digits of |x| (finite, non-zero) that read
 * back as x in `dtype`, and x's decimal exponent: |x| ~ d.ddd * 10^exp. */
static void
shortest_digits (double x, LfDType dtype, char digits[32], int *exp10)
{
  char text[40];
  for (int precision = 0; precision < 17; precision++)
    {
      format_double (text, sizeof text, 'e', precision, fabs (x));
      if (reads_back (text, fabs (x), dtype))
        break;
    }
  char *e = strchr (text, 'e');
  *exp10 = atoi (e + 1);
  gsize n = 0;
  for (const char *p = text; p < e; p++)
    if (*p != '.')
      digits[n++] = *p;
  while (n > 1 && digits[n - 1] == '0')
    n--;
  digits[n] = '\0';
}

char *
cli_format_double (double x)
{
  if (!isfinite (x))
    return g_strdup (isnan (x) ? "nan" : x < 0 ? "-inf" : "inf");
  char text[40];
  for (int precision = 1; precision <= 17; precision++)
    {
      format_double (text, sizeof text, 'g', precision, x);
      if (g_ascii_strtod (text, NULL) == x)
        break;
    }
  return g_strdup (text);
}

char *
cli_format_element (LfDType dtype, const LfElement *e)
{
  if (dtype == LF_DTYPE_BOOL)
    return g_strdup (e->u ? "True" : "False");
  if (e->kind == LF_ELEMENT_SIGNED)
    return g_strdup_printf ("%" G_GINT64_FORMAT, e->i);
  if (e->kind == LF_ELEMENT_UNSIGNED)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, e->u);
  double x = e->re;
  if (x == 0)
    return g_strdup (signbit (x) ? "-0.0" : "0.0");
  if (!isfinite (x))
    return cli_format_double (x);
  /* As Python's repr writes a float, with the digits its dtype needs. */
  char digits[32];
  int exp10;
  shortest_digits (x, dtype == LF_DTYPE_COMPLEX64 ? LF_DTYPE_FLOAT32
                      : dtype == LF_DTYPE_COMPLEX128 ? LF_DTYPE_FLOAT64 : dtype,
                   digits, &exp10);
  if (exp10 < -4 || exp10 >= 16)
    return g_strdup_printf ("%s%c%s%se%c%02d", x < 0 ? "-" : "", digits[0],
                            digits[1] ? "." : "", digits + 1, exp10 < 0 ? '-' : '+',
                            ABS (exp10));
  /* Positional: the digits around the point, "0." and zeros before them. */
  GString *text = g_string_new (x < 0 ? "-" : "");
  int n = (int) strlen (digits);
  if (exp10 < 0)
    {
      g_string_append (text, "0.");
      for (int i = 0; i < -exp10 - 1; i++)
        g_string_append_c (text, '0');
      g_string_append (text, digits);
    }
  else
    {
      for (int i = 0; i <= exp10; i++)
        g_string_append_c (text, i < n ? digits[i] : '0');
      g_string_append_printf (text, ".%s", n > exp10 + 1 ? digits + exp10 + 1 : "0");
    }
  return g_string_free (text, FALSE);
}

/* x in positional notation with at most PRECISION fractional digits,
 * trailing zeros dropped but not the point ("1.", "0.25", "-3.5"). */
static void
format_positional (double x, LfDType dtype, const char *sign, GString *out)
{
  g_string_append (out, signbit (x) ? "-" : sign);
  if (x == 0)
    {
      g_string_append (out, "0.");
      return;
    }
  char digits[32];
  int exp10;
  shortest_digits (x, dtype, digits, &exp10);
  int n = (int) strlen (digits);
  if (n - 1 - exp10 > PRECISION)
    {
      /* More digits than shown: round the value itself. */
      char text[400];
      format_double (text, sizeof text, 'f', PRECISION, fabs (x));
      gsize len = strlen (text);
      while (text[len - 1] == '0')
        len--;
      g_string_append_len (out, text, (gssize) len);
      return;
    }
  if (exp10 < 0)
    {
      g_string_append (out, "0.");
      for (int i = 0; i < -exp10 - 1; i++)
        g_string_append_c (out, '0');
      g_string_append (out, digits);
      return;
    }
  for (int i = 0; i <= exp10; i++)
    g_string_append_c (out, i < n ? digits[i] : '0');
  g_string_append_c (out, '.');
  if (n > exp10 + 1)
    g_string_append (out, digits + exp10 + 1);
}

/* x in scientific notation: mantissa with at most PRECISION fractional
 * digits, at least `min_digits` of them (zeros added), and an exponent of
 * at least `exp_digits` digits. */
static void
format_scientific (double x, LfDType dtype, const char *sign, int min_digits, int exp_digits,
                   GString *out)
{
  g_string_append (out, signbit (x) ? "-" : sign);
  char digits[32];
  int exp10 = 0;
  if (x == 0)
    strcpy (digits, "0");
  else
    shortest_digits (x, dtype, digits, &exp10);
  /* Past the shortest digits: more than PRECISION are rounded away, and
   * fewer than `min_digits` are completed with the value's own next
   * digits (as numpy does), not with zeros. */
  int n_fraction = (int) strlen (digits) - 1;
  if (n_fraction > PRECISION || n_fraction < min_digits)
    {
      char text[40];
      format_double (text, sizeof text, 'e', n_fraction > PRECISION ? PRECISION : min_digits,
                     fabs (x));
      char *e = strchr (text, 'e');
      exp10 = atoi (e + 1);
      gsize n = 0;
      for (const char *p = text; p < e; p++)
        if (*p != '.')
          digits[n++] = *p;
      while (n > 1 && digits[n - 1] == '0' && (int) n - 1 > min_digits)
        n--;
      digits[n] = '\0';
    }
  g_string_append_c (out, digits[0]);
  g_string_append_c (out, '.');
  n_fraction = (int) strlen (digits) - 1;
  g_string_append (out, digits + 1);
  for (int i = n_fraction; i < min_digits; i++)
    g_string_append_c (out, '0');
  g_string_append_printf (out, "e%c%0*d", exp10 < 0 ? '-' : '+', MAX (exp_digits, 2),
                          abs (exp10));
}

/* ---- the layout of floats of one array (numpy's FloatingFormat) ------------ */

typedef struct {
  LfDType dtype;          /* the real dtype the values round to */
  const char *sign;       /* "" or "+" (imaginary parts) */
  gboolean scientific;
  int pad_left, pad_right;
  int precision;          /* scientific: fractional digits of every mantissa */
  int exp_digits;
} FloatLayout;

static gsize
point_position (const char *text)
{
  const char *point = strchr (text, '.');
  return point != NULL ? (gsize) (point - text) : strlen (text);
}

static void
float_layout_init (FloatLayout *layout, LfDType dtype, const char *sign, const double *values,
                   gsize n)
{
  memset (layout, 0, sizeof *layout);
  layout->dtype = dtype;
  layout->sign = sign;
  double max_value = 0, min_value = INFINITY;
  gboolean any_finite = FALSE, any_nonfinite = FALSE, negative_inf = FALSE;
  for (gsize i = 0; i < n; i++)
    {
      double v = values[i];
      if (!isfinite (v))
        {
          any_nonfinite = TRUE;
          negative_inf |= isinf (v) && v < 0;
          continue;
        }
      any_finite = TRUE;
      if (v != 0)
        {
          max_value = MAX (max_value, fabs (v));
          min_value = MIN (min_value, fabs (v));
        }
    }
  if (max_value > 0)
    layout->scientific = max_value >= 1e8 || min_value < 1e-4 || max_value / min_value > 1e3;

  g_autoptr (GString) text = g_string_new (NULL);
  for (gsize i = 0; i < n && any_finite; i++)
    {
      if (!isfinite (values[i]))
        continue;
      g_string_truncate (text, 0);
      if (layout->scientific)
        format_scientific (values[i], dtype, sign, 0, 0, text);
      else
        format_positional (values[i], dtype, sign, text);
      gsize point = point_position (text->str);
      layout->pad_left = MAX (layout->pad_left, (int) point);
      if (layout->scientific)
        {
          const char *e = strchr (text->str, 'e');
          layout->precision = MAX (layout->precision, (int) (e - text->str - point - 1));
          layout->exp_digits = MAX (layout->exp_digits, (int) strlen (e + 2));
        }
      else
        layout->pad_right = MAX (layout->pad_right, (int) (text->len - point - 1));
    }
  if (layout->scientific)
    layout->pad_right = layout->exp_digits + 2 + layout->precision;
  if (any_nonfinite)
    {
      int offset = layout->pad_right + 1;
      int inf_len = 3 + (negative_inf || *sign != '\0');
      layout->pad_left = MAX (layout->pad_left, MAX (3 - offset, inf_len - offset));
    }
}

static void
float_layout_format (const FloatLayout *layout, double x, GString *out)
{
  int width = layout->pad_left + layout->pad_right + 1;
  if (!isfinite (x))
    {
      const char *text = isnan (x) ? "nan" : "inf";
      const char *sign = isnan (x) ? (*layout->sign ? "+" : "")
                                   : (x < 0 ? "-" : layout->sign);
      int len = (int) (strlen (sign) + 3);
      for (int i = len; i < width; i++)
        g_string_append_c (out, ' ');
      g_string_append_printf (out, "%s%s", sign, text);
      return;
    }
  g_autoptr (GString) text = g_string_new (NULL);
  if (layout->scientific)
    format_scientific (x, layout->dtype, layout->sign, layout->precision, layout->exp_digits,
                       text);
  else
    format_positional (x, layout->dtype, layout->sign, text);
  for (int i = (int) point_position (text->str); i < layout->pad_left; i++)
    g_string_append_c (out, ' ');
  g_string_append (out, text->str);
  if (!layout->scientific)
    for (int i = (int) (text->len - point_position (text->str) - 1); i < layout->pad_right; i++)
      g_string_append_c (out, ' ');
}

/* ---- elements of any dtype -------------------------------------------------- */

typedef struct {
  LfDType dtype;
  gconstpointer data;
  guint ndim;
  const gsize *shape;
  gboolean summarise;
  int int_width;              /* integers */
  FloatLayout real, imag;     /* floats; complex: both */
} Layout;

static void
format_element (const Layout *layout, gsize index, GString *out)
{
  LfElement e;
  lf_element_read (layout->dtype, (const guint8 *) layout->data
                                  + index * lf_dtype_size (layout->dtype), &e);
  if (layout->dtype == LF_DTYPE_BOOL)
    g_string_append (out, e.u ? (layout->ndim > 0 ? " True" : "True") : "False");
  else if (e.kind == LF_ELEMENT_SIGNED)
    g_string_append_printf (out, "%*" G_GINT64_FORMAT, layout->int_width, e.i);
  else if (e.kind == LF_ELEMENT_UNSIGNED)
    g_string_append_printf (out, "%*" G_GUINT64_FORMAT, layout->int_width, e.u);
  else if (e.kind == LF_ELEMENT_FLOAT)
    float_layout_format (&layout->real, e.re, out);
  else
    {
      float_layout_format (&layout->real, e.re, out);
      gsize start = out->len;
      float_layout_format (&layout->imag, e.im, out);
      /* The 'j' goes before the padding of the imaginary part. */
      gsize end = out->len;
      while (end > start && out->str[end - 1] == ' ')
        end--;
      g_string_insert_c (out, (gssize) end, 'j');
    }
}

/* Elements between two consecutive indices of `axis`. */
static gsize
axis_stride (const Layout *layout, guint axis)
{
  gsize stride = 1;
  for (guint a = axis + 1; a < layout->ndim; a++)
    stride *= layout->shape[a];
  return stride;
}

/* Whether `axis` shows only EDGE_ITEMS at each end around "...". */
static gboolean
axis_is_summarised (const Layout *layout, guint axis)
{
  return layout->summarise && 2 * EDGE_ITEMS < layout->shape[axis];
}

/* Calls `func` with the flat index of each element shown (all of them, or
 * the edges of each summarised axis). */
static void
foreach_shown (const Layout *layout, guint axis, gsize base,
               void (*func) (const Layout *, gsize, gpointer), gpointer data)
{
  if (axis == layout->ndim)
    {
      func (layout, base, data);
      return;
    }
  gsize stride = axis_stride (layout, axis);
  gsize len = layout->shape[axis];
  gboolean edges = axis_is_summarised (layout, axis);
  for (gsize i = 0; i < len; i++)
    {
      if (edges && i == EDGE_ITEMS)
        i = len - EDGE_ITEMS;
      foreach_shown (layout, axis + 1, base + i * stride, func, data);
    }
}

typedef struct {
  GArray *re, *im;
  gint64 min_i;
  guint64 max_u;
  int width;
} Shown;

static void
collect_shown (const Layout *layout, gsize index, gpointer data)
{
  Shown *shown = data;
  LfElement e;
  lf_element_read (layout->dtype, (const guint8 *) layout->data
                                  + index * lf_dtype_size (layout->dtype), &e);
  if (e.kind == LF_ELEMENT_SIGNED || e.kind == LF_ELEMENT_UNSIGNED)
    {
      char text[32];
      int len = e.kind == LF_ELEMENT_SIGNED
                ? g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, e.i)
                : g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, e.u);
      shown->width = MAX (shown->width, len);
      return;
    }
  g_array_append_val (shown->re, e.re);
  g_array_append_val (shown->im, e.im);
}

static void
layout_init (Layout *layout, LfDType dtype, guint ndim, const gsize *shape, gconstpointer data,
             gsize n_elements)
{
  memset (layout, 0, sizeof *layout);
  layout->dtype = dtype;
  layout->data = data;
  layout->ndim = ndim;
  layout->shape = shape;
  layout->summarise = n_elements > THRESHOLD;
  Shown shown = { g_array_new (FALSE, FALSE, sizeof (double)),
                  g_array_new (FALSE, FALSE, sizeof (double)), 0, 0, 0 };
  foreach_shown (layout, 0, 0, collect_shown, &shown);
  layout->int_width = shown.width;
  LfDType real = dtype == LF_DTYPE_COMPLEX64 ? LF_DTYPE_FLOAT32
                 : dtype == LF_DTYPE_COMPLEX128 ? LF_DTYPE_FLOAT64 : dtype;
  float_layout_init (&layout->real, real, "", (double *) shown.re->data, shown.re->len);
  float_layout_init (&layout->imag, real, "+", (double *) shown.im->data, shown.im->len);
  g_array_unref (shown.re);
  g_array_unref (shown.im);
}

/* ---- lines ------------------------------------------------------------------ */

typedef struct {
  GString *s;      /* finished lines */
  GString *line;   /* the line being filled */
} Lines;

/* Adds `word` to the line, first starting a new one (indented by
 * `indent`) when it would pass `width` and that helps. */
static void
extend_line (Lines *lines, const char *word, gsize width, gsize indent)
{
  if (lines->line->len + strlen (word) > width && lines->line->len > indent)
    {
      while (lines->line->len > 0 && lines->line->str[lines->line->len - 1] == ' ')
        g_string_truncate (lines->line, lines->line->len - 1);
      g_string_append_printf (lines->s, "%s\n", lines->line->str);
      g_string_truncate (lines->line, 0);
      g_string_append_printf (lines->line, "%*s", (int) indent, "");
    }
  g_string_append (lines->line, word);
}

static void format_axis (const Layout *layout, guint axis, gsize base, gsize indent,
                         gsize width, GString *out);

static void
format_row (const Layout *layout, gsize base, gsize indent, gsize width, GString *out)
{
  gsize len = layout->shape[layout->ndim - 1];
  gboolean edges = axis_is_summarised (layout, layout->ndim - 1);
  Lines lines = { g_string_new (NULL), g_string_new (NULL) };
  g_string_append_printf (lines.line, "%*s", (int) indent, "");
  g_autoptr (GString) word = g_string_new (NULL);
  gsize elem_width = width - 1;  /* room for the ']' */
  for (gsize i = 0; i < len; i++)
    {
      if (edges && i == EDGE_ITEMS)
        {
          extend_line (&lines, "...", elem_width, indent);
          g_string_append_c (lines.line, ' ');
          i = len - EDGE_ITEMS;
        }
      g_string_truncate (word, 0);
      format_element (layout, base + i, word);
      extend_line (&lines, word->str, elem_width, indent);
      if (i + 1 < len)
        g_string_append_c (lines.line, ' ');
    }
  g_string_append (lines.s, lines.line->str);
  /* The first line's indent is where the caller's '[' goes. */
  g_string_append_printf (out, "[%s]", lines.s->str + indent);
  g_string_free (lines.s, TRUE);
  g_string_free (lines.line, TRUE);
}

static void
format_axis (const Layout *layout, guint axis, gsize base, gsize indent, gsize width,
             GString *out)
{
  if (axis + 1 == layout->ndim)
    {
      format_row (layout, base, indent, width, out);
      return;
    }
  gsize stride = axis_stride (layout, axis);
  gsize len = layout->shape[axis];
  gboolean edges = axis_is_summarised (layout, axis);
  guint n_newlines = layout->ndim - axis - 1;
  g_string_append_c (out, '[');
  for (gsize i = 0; i < len; i++)
    {
      if (edges && i == EDGE_ITEMS)
        {
          g_string_append_printf (out, "%*s...", (int) indent, "");
          for (guint k = 0; k < n_newlines; k++)
            g_string_append_c (out, '\n');
          i = len - EDGE_ITEMS;
        }
      if (i > 0)
        g_string_append_printf (out, "%*s", (int) indent, "");
      format_axis (layout, axis + 1, base + i * stride, indent + 1, width - 1, out);
      if (i + 1 < len)
        for (guint k = 0; k < n_newlines; k++)
          g_string_append_c (out, '\n');
    }
  g_string_append_c (out, ']');
}

char *
cli_format_values (LfDType dtype, guint ndim, const gsize *shape, gconstpointer data)
{
  gsize n = 1;
  for (guint a = 0; a < ndim; a++)
    n *= shape[a];
  if (n == 0)
    return g_strdup ("[]");
  Layout layout;
  layout_init (&layout, dtype, ndim, shape, data, n);
  GString *out = g_string_new (NULL);
  if (ndim == 0)
    format_element (&layout, 0, out);
  else
    format_axis (&layout, 0, 0, 1, LINE_WIDTH, out);
  return g_string_free (out, FALSE);
}
