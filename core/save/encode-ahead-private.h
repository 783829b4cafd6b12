/* Encoding small leaves ahead on a thread pool (encode-ahead.c), for the
 * walker's saves with codecs flagged LF_CODEC_PARALLEL_SMALL_LEAVES. */
#pragma once

#include <leafio/leafio.h>

typedef struct _LfEncodeAhead LfEncodeAhead;

/* One queued leaf and, once taken back, its record or its error. */
typedef struct {
  LfCodec *codec;
  LfNode *leaf;
  LfPath *path;
  GBytes *bytes;     /* the record; NULL when `error` is set */
  GError *error;
} LfEncodedRecord;

/* A pool of LEAFIO_ENCODE_THREADS workers (default one per CPU), or NULL
 * when there is one, or no thread could be made: encode in the caller. */
LfEncodeAhead *_lf_encode_ahead_new (void);
/* Waits for running jobs and drops the rest.  NULL is allowed. */
void _lf_encode_ahead_free (LfEncodeAhead *ea);

/* Queues `leaf` for `codec` (references and copies are taken); `weight`
 * is its data size, for the memory bound. */
void _lf_encode_ahead_push (LfEncodeAhead *ea, LfCodec *codec, const LfPath *path,
                            LfNode *leaf, gsize weight);
/* TRUE when the caller should take records back before queuing more. */
gboolean _lf_encode_ahead_is_full (LfEncodeAhead *ea);
/* TRUE when nothing is queued (or `ea` is NULL). */
gboolean _lf_encode_ahead_is_empty (LfEncodeAhead *ea);
/* The oldest queued leaf, once encoded (waits); NULL when none is queued.
 * Free with _lf_encoded_record_free. */
LfEncodedRecord *_lf_encode_ahead_pop (LfEncodeAhead *ea);
void _lf_encoded_record_free (LfEncodedRecord *record);
