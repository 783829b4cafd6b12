/* The LEAFIO_* environment settings of the performance paths
 * (settings.c; the README lists them). */
#pragma once

#include <glib.h>

/* The unsigned decimal in the environment variable `name`, or `fallback`
 * when it is unset or not a number in [min, max]. */
G_GNUC_INTERNAL guint64 _lf_setting_uint (const char *name, guint64 min, guint64 max,
                                          guint64 fallback);
