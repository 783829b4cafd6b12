/* The element model's array loop (element.c), for lf_array_cast. */
#pragma once

#include <leafio/leafio.h>

/* Converts `n` elements of `from` at `src` into `to` at `dst` with
 * lf_element_write's rules.  With `stop_at_loss`, stops at the first
 * element whose write lost something and returns its index; otherwise
 * converts all.  Returns -1 when nothing was lost (or not asked). */
G_GNUC_INTERNAL gssize _lf_element_convert (LfDType from, gconstpointer src, LfDType to,
                                            gpointer dst, gsize n, gboolean stop_at_loss);
