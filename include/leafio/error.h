/**
 * SECTION:error
 * @title: Errors
 * @short_description: the LF_ERROR domain and its codes
 *
 * Every fallible call takes a `GError **error` last (it may be NULL) and
 * reports failures in the LF_ERROR domain.  The innermost layer states the
 * fact (`"expected <f4, found <f8"`); outer layers prefix where it happened
 * (`"model.eqx: record 12 ([1]['a'].weight) at offset 4096: "`).
 * Programming errors (NULL where a value is required) are g_return_if_fail
 * criticals, never a GError.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>

G_BEGIN_DECLS

/**
 * LF_ERROR:
 *
 * The error domain of every leafio call.
 *
 * Since: 0.1
 */
#define LF_ERROR (lf_error_quark ())

/**
 * LfError:
 * @LF_ERROR_FAILED: anything not covered below
 * @LF_ERROR_IO: the operating system refused a read or write (errno text)
 * @LF_ERROR_TRUNCATED: input ended inside a record
 * @LF_ERROR_CORRUPT: a record's bytes are malformed (bad magic, bad header)
 * @LF_ERROR_UNSUPPORTED: well-formed but refused: object or structured
 *   dtype, pickle, too many dimensions
 * @LF_ERROR_MISMATCH: a loaded leaf differs from `like` (kind, shape, dtype)
 * @LF_ERROR_TRAILING_DATA: bytes left in a file after the last leaf
 * @LF_ERROR_SPEC: a filter spec does not fit the tree
 * @LF_ERROR_UNKNOWN_CODEC: no codec of that name in the registry
 * @LF_ERROR_OPTIONS: a codec option is unknown or has a bad value
 * @LF_ERROR_PLUGIN_LOAD: dlopen failed or the descriptor symbol is missing
 * @LF_ERROR_PLUGIN_ABI: the plugin was built for another ABI version
 * @LF_ERROR_PLUGIN_INVALID: the plugin descriptor or a codec vtable is
 *   malformed
 * @LF_ERROR_DUPLICATE_NAME: a codec name is already registered
 * @LF_ERROR_PARSE: text input (codec reference, JSON, rules, path) is
 *   malformed
 * @LF_ERROR_CHECKSUM: a checksum does not match the data
 * @LF_ERROR_OVERFLOW: a value does not fit the target type
 * @LF_ERROR_NOT_FOUND: a path names no node of the tree
 * @LF_ERROR_TOO_LARGE: a record would decode to more than `like` holds or
 *   a cap allows (since 0.2)
 *
 * The codes of the %LF_ERROR domain.  Append only: values are stable
 * across releases, and code that meets an unknown value should treat it as
 * %LF_ERROR_FAILED.
 *
 * Since: 0.1
 */
typedef enum {
  LF_ERROR_FAILED = 0,
  LF_ERROR_IO = 1,
  LF_ERROR_TRUNCATED = 2,
  LF_ERROR_CORRUPT = 3,
  LF_ERROR_UNSUPPORTED = 4,
  LF_ERROR_MISMATCH = 5,
  LF_ERROR_TRAILING_DATA = 6,
  LF_ERROR_SPEC = 7,
  LF_ERROR_UNKNOWN_CODEC = 8,
  LF_ERROR_OPTIONS = 9,
  LF_ERROR_PLUGIN_LOAD = 10,
  LF_ERROR_PLUGIN_ABI = 11,
  LF_ERROR_PLUGIN_INVALID = 12,
  LF_ERROR_DUPLICATE_NAME = 13,
  LF_ERROR_PARSE = 14,
  LF_ERROR_CHECKSUM = 15,
  LF_ERROR_OVERFLOW = 16,
  LF_ERROR_NOT_FOUND = 17,
  LF_ERROR_TOO_LARGE = 18,
} LfError;

/**
 * lf_error_quark:
 *
 * The error domain of leafio, %LF_ERROR.
 *
 * Returns: the quark of the %LF_ERROR domain.
 *
 * Since: 0.1
 */
LF_API GQuark lf_error_quark (void);

G_END_DECLS
