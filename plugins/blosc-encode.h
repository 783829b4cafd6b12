/* Compressing an array's data into blosc chunks on worker threads (blosc.c). */
#pragma once

#include <leafio/leafio.h>

typedef struct {
  int clevel;
  int shuffle;              /* BLOSC_SHUFFLE, BLOSC_BITSHUFFLE or BLOSC_NOSHUFFLE */
  gsize typesize;
  const char *compressor;
  gsize blocksize;
} LfBloscParams;

gboolean lf_blosc_encode_chunks (const LfBloscParams *params, const guint8 *data, gsize size,
                                 gsize chunk_size, int threads, LfStream *sink,
                                 guint64 *compressed_size, guint64 *checksum, GError **error);
