/* The LEAFIO_* environment settings of the performance paths: read where
 * they are used, so a program (or a test) may set them at any time. */
#include "config.h"
#include "settings-private.h"

guint64
_lf_setting_uint (const char *name, guint64 min, guint64 max, guint64 fallback)
{
  const char *text = g_getenv (name);
  guint64 value;
  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
    return fallback;
  return value;
}
