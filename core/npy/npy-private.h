/* Helpers shared by npy-header.c, npy-dict.c and npy-io.c. */
#pragma once

#include <leafio/leafio.h>

/* Magic (6) + version (2): enough to know the size of the length field. */
#define LF_NPY_PREFIX_LEN 8

/* Checks the magic and version in `bytes` (`size` may be short: only the
 * bytes present are checked for the magic) and returns the size of the
 * length field (2 or 4) in `*len_size`.  TRUNCATED when fewer than 8
 * bytes are given but those match. */
G_GNUC_INTERNAL gboolean lf_npy_parse_prefix (const guint8 *bytes, gsize size,
                                              LfNpyHeader *header, guint *len_size,
                                              GError **error);

/* Checks a header length read from the length field against the limit. */
G_GNUC_INTERNAL gboolean lf_npy_check_header_len (guint64 header_len, GError **error);

/* Parses the header dict `text` of a record of version `major` into
 * `header` (npy-dict.c). */
G_GNUC_INTERNAL gboolean _lf_npy_parse_dict (const char *text, gsize length, guint8 major,
                                             LfNpyHeader *header, GError **error);
