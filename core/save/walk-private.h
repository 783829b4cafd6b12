/* The walker: pairs each leaf of a tree with the codec the spec gives it,
 * for both save and load, so both sides always agree on which leaves have
 * records.  Also the per-record log the manifest is built from. */
#pragma once

#include <leafio/leafio.h>

/* One leaf as the walker saw it. */
typedef struct {
  char *path;          /* keystr text (owned) */
  LfNode *leaf;        /* the tree's leaf on save, the loaded leaf on load (owned ref) */
  LfCodec *codec;      /* the codec that handled it (owned ref) */
  gboolean has_record; /* FALSE when the codec wrote/read nothing for it */
  guint64 offset;      /* record start, bytes from the stream's start */
  guint64 size;        /* record length in bytes (0 without a record) */
  gboolean hashed;     /* saves: xxh3 is the record's XXH3-64, taken as it was written */
  guint64 xxh3;
} LfWalkRecord;

/* Frees the members of a record (for g_array_set_clear_func). */
void _lf_walk_record_clear (gpointer record);

/* Writes the leaves of `tree` to `stream`.  When `log` is not NULL, appends
 * one LfWalkRecord per leaf, with each record's checksum where the stream
 * could take it while writing. */
gboolean _lf_walk_save (LfStream *stream, LfNode *tree, LfSpec *spec,
                        LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                        GArray *log, GError **error);

/* A record a load expects, from the manifest: where it starts in the
 * stream, its size and its XXH3-64. */
typedef struct {
  guint64 offset;
  guint64 size;
  guint64 xxh3;
} LfRecordCheck;

/* The checks of a load that reads and hashes each record once: the i-th
 * record read must be records[i].  `failed` is set when one was not (or
 * could not be hashed), or when the load read another number of records;
 * the load then fails with LF_ERROR_CHECKSUM. */
typedef struct {
  const LfRecordCheck *records;
  guint n_records;
  gboolean failed;
} LfWalkChecks;

/* Reads the leaves for `like` from `stream`; NULL on error (no partial tree). */
LfNode *_lf_walk_load (LfStream *stream, LfNode *like, LfSpec *spec,
                       LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                       GArray *log, GError **error);
/* _lf_walk_load(), checking each record against `checks` (nullable) as it
 * reads it, and telling on failure the index of the record being read
 * (the number of records read before it). */
LfNode *_lf_walk_load_checked (LfStream *stream, LfNode *like, LfSpec *spec,
                               LfIsLeafFunc is_leaf, gpointer is_leaf_data,
                               LfWalkChecks *checks, guint *failed_record,
                               GError **error);
