/* What the files of the record reader share (reader.c, reader-codecs.c). */
#pragma once

#include "cli-private.h"

struct _CliReader {
  char *filename;
  GMappedFile *mapped;
  GBytes *bytes;
  const guint8 *data;
  gsize size;
  guint64 offset;
  guint index;
  LfCodec *codec;            /* every record's codec; NULL: each is recognised */
  GPtrArray *candidates;     /* the codecs that may recognise a record, made on first use */
  char *leaf_path;           /* named in errors when set */

  /* The record described last. */
  LfRecordInfo *record;
  LfCodec *record_codec;
  LfNode *record_like;       /* the leaf it was read for, or NULL */
  LfPath *record_path;       /* its leaf path, or [index] */
  guint64 record_offset;
  LfNode *decoded;           /* set when describing it took decoding it */
};

/* A stream over the file that ends `size` bytes after `offset`
 * (LF_RECORD_SIZE_UNKNOWN or more than is left: at the file's end),
 * positioned at `offset` and named after the file. */
LfStream *_cli_reader_stream_at (CliReader *reader, guint64 offset, guint64 size);

/* The first codec whose description of the record at the reader's offset
 * succeeds, the default codec first, then the other registered codecs
 * that can describe, by name; `record` holds its description.  NULL with
 * LF_ERROR_CORRUPT giving each codec's reason when none does (transfer
 * none: the reader keeps it). */
LfCodec *_cli_reader_recognise (CliReader *reader, const LfNode *like, LfRecordInfo *record,
                                GError **error);

/* The check before `codec` decodes the record `record` describes for
 * `like` (NULL: none): lf_record_info_check_like() with
 * cli_max_record_size as the bound where `like` gives none. */
gboolean _cli_check_before_decoding (const LfRecordInfo *record, const LfCodec *codec,
                                     const LfNode *like, GError **error);
