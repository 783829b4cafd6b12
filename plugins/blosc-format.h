/* The blosc record's layout (docs/FORMAT.md), private to the codec
 * (blosc.c): everything else learns what a record holds from the codec's
 * `describe` (lf_codec_describe()).
 *
 *   0   8  magic "\x93LFBLOSC"
 *   8   1  version, 1
 *   9   1  flags: bit 0 = the checksum field holds a checksum
 *   10  2  reserved, 0
 *   12  4  length H of the npy header that follows (1..LF_BLOSC_MAX_NPY_HEADER)
 *   16  8  chunk size C: raw data bytes per chunk (1..LF_BLOSC_MAX_CHUNK)
 *   24  8  compressed size: bytes of all the chunks together
 *   32  8  XXH3-64 (seed 0) of the raw data, or 0 without flag bit 0
 *   40  H  the npy header of the inner record (dtype, order, shape)
 *   ..     ceil(data size / C) blosc buffers back to back, each holding C
 *          bytes of the data (the last one the rest); none for empty data
 * All integers little-endian.  The data size is what the npy header
 * declares (items times item size). */
#pragma once

#include "le-bytes.h"

#define LF_BLOSC_RECORD_MAGIC "\x93LFBLOSC"
#define LF_BLOSC_RECORD_MAGIC_LEN 8
#define LF_BLOSC_RECORD_VERSION 1
#define LF_BLOSC_RECORD_HEADER_SIZE 40
#define LF_BLOSC_AT_VERSION 8
#define LF_BLOSC_AT_FLAGS 9
#define LF_BLOSC_AT_RESERVED 10
#define LF_BLOSC_AT_NPY_HEADER_LEN 12
#define LF_BLOSC_AT_CHUNK_SIZE 16
#define LF_BLOSC_AT_COMPRESSED_SIZE 24
#define LF_BLOSC_AT_CHECKSUM 32
#define LF_BLOSC_FLAG_CHECKSUM 0x01
/* numpy parses header texts up to 10000 bytes; with magic, version and
 * length that fits in this. */
#define LF_BLOSC_MAX_NPY_HEADER 16384
/* A blosc buffer holds at most 2 GiB - 16 bytes; chunks stay well below. */
#define LF_BLOSC_MAX_CHUNK ((guint64) 1 << 30)
/* Each blosc buffer starts with a 16-byte header that gives its sizes. */
#define LF_BLOSC_CHUNK_HEADER_SIZE 16
