/* Writing the float16 halves of a float32, float64 or bfloat16 array
 * straight to a stream, converted a slot at a time (float16.c). */
#pragma once

#include <leafio/leafio.h>

/* Converts `count` elements of the array `src` of `dtype`, from element
 * `first` on, to float16 in `half`. */
void float16_convert (LfDType dtype, gconstpointer src, gsize first, gsize count,
                      guint16 *half);

/* The conversion buffers a codec instance keeps between leaves, so that
 * saves do not fault fresh pages in for every array. */
typedef struct {
  gpointer ring;   /* atomic: the idle buffer, or NULL while a save uses it */
} Float16RingCache;

/* Frees the cache's buffer. */
void float16_ring_cache_clear (Float16RingCache *cache);

/* Writes `leaf`'s elements converted to float16, as they are in memory on a
 * little-endian host.  Big arrays are converted by a second thread while
 * this one writes the slots it converted before.  Returns FALSE with the
 * stream's error; the stream's position is then undefined. */
gboolean float16_write_halves (Float16RingCache *cache, LfStream *out, LfNode *leaf,
                               GError **error);
