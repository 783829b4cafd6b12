/* The compressed record's layout (docs/FORMAT.md), private to the codec
 * (compressed.c): everything else learns what a record holds from the
 * codec's `describe` (lf_codec_describe()).
 *
 *   0   7  magic "\x93LFZSTD"
 *   7   1  version, 1
 *   8   4  length of the inner codec reference text (1..4096)
 *   12  4  flags, 0 (anything else is refused)
 *   16  8  raw size: bytes of the inner record
 *   24  8  compressed size: bytes of the zstd frame
 *   32  8  XXH3-64 (seed 0) of the inner record's raw bytes
 *   40     the inner codec reference, e.g. "npy" or "float16(overflow=error)"
 *   ..     one zstd frame holding the inner record
 * All integers little-endian. */
#pragma once

#include "le-bytes.h"

#define LF_ZSTD_RECORD_MAGIC "\x93LFZSTD"
#define LF_ZSTD_RECORD_MAGIC_LEN 7
#define LF_ZSTD_RECORD_VERSION 1
#define LF_ZSTD_RECORD_HEADER_SIZE 40
#define LF_ZSTD_AT_VERSION 7
#define LF_ZSTD_AT_REFERENCE_LEN 8
#define LF_ZSTD_AT_FLAGS 12
#define LF_ZSTD_AT_RAW_SIZE 16
#define LF_ZSTD_AT_COMPRESSED_SIZE 24
#define LF_ZSTD_AT_CHECKSUM 32
#define LF_ZSTD_MAX_REFERENCE_LEN 4096
/* zstd windows are at most 32 MiB, written and read: a reader must allocate
 * the window before any output, so a crafted frame could otherwise make it
 * allocate up to 128 MiB from a few bytes of input. */
#define LF_ZSTD_MAX_WINDOW_LOG 25
