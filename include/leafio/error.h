/* leafio: the error domain.
 *
 * Every fallible call takes a `GError **error` last (it may be NULL) and
 * reports failures in the LF_ERROR domain.  The innermost layer states the
 * fact ("expected <f4, found <f8"); outer layers prefix where it happened
 * ("model.eqx: record 12 ([1]['a'].weight) at offset 4096: ").
 * Programming errors (NULL where a value is required) are g_return_if_fail
 * criticals, never a GError.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>

G_BEGIN_DECLS

#define LF_ERROR (lf_error_quark ())

/* Error codes.  Append only: values are stable across releases, and code
 * that meets an unknown value should treat it as LF_ERROR_FAILED. */
typedef enum {
  LF_ERROR_FAILED = 0,         /* anything not covered below */
  LF_ERROR_IO = 1,             /* the operating system refused a read or write (errno text) */
  LF_ERROR_TRUNCATED = 2,      /* input ended inside a record */
  LF_ERROR_CORRUPT = 3,        /* a record's bytes are malformed (bad magic, bad header) */
  LF_ERROR_UNSUPPORTED = 4,    /* well-formed but refused: object/structured dtype, pickle, too many dims */
  LF_ERROR_MISMATCH = 5,       /* a loaded leaf differs from `like` (kind, shape, dtype) */
  LF_ERROR_TRAILING_DATA = 6,  /* bytes left in a file after the last leaf */
  LF_ERROR_SPEC = 7,           /* a filter spec does not fit the tree */
  LF_ERROR_UNKNOWN_CODEC = 8,  /* no codec of that name in the registry */
  LF_ERROR_OPTIONS = 9,        /* a codec option is unknown or has a bad value */
  LF_ERROR_PLUGIN_LOAD = 10,   /* dlopen failed or the descriptor symbol is missing */
  LF_ERROR_PLUGIN_ABI = 11,    /* the plugin was built for another ABI version */
  LF_ERROR_PLUGIN_INVALID = 12,/* the plugin descriptor or a codec vtable is malformed */
  LF_ERROR_DUPLICATE_NAME = 13,/* a codec name is already registered */
  LF_ERROR_PARSE = 14,         /* text input (codec reference, JSON, rules, path) is malformed */
  LF_ERROR_CHECKSUM = 15,      /* a checksum does not match the data */
  LF_ERROR_OVERFLOW = 16,      /* a value does not fit the target type */
  LF_ERROR_NOT_FOUND = 17,     /* a path names no node of the tree */
  LF_ERROR_TOO_LARGE = 18,     /* a record would decode to more than `like` holds or a cap allows */
  LF_ERROR_BUSY = 19,          /* another checkpoint manager holds the directory */
} LfError;

LF_API GQuark lf_error_quark (void);

G_END_DECLS
