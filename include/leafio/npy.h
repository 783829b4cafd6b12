/* leafio: npy records, byte for byte as numpy writes them.
 *
 * A record is the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), a
 * little-endian header length (2 bytes for 1.0, 4 otherwise), a Python dict
 * literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`, the
 * spaces numpy adds, and the raw data.  The writer reproduces numpy >= 1.24
 * exactly: sorted keys, Python-repr shapes, 21 - len(str(shape[0])) spare
 * spaces for in-place growth, then 1..64 spaces and a newline so the data
 * starts at a multiple of 64 from the record's start; version 2.0 only when
 * the header needs it.
 *
 * The reader accepts versions 1.0, 2.0 and 3.0, either byte order and
 * Fortran order (converted to native, C-ordered arrays), and refuses object,
 * structured and other non-numeric dtypes, negative or overflowing shapes
 * and any malformed header.  It is a small strict parser, not an eval.
 * Codec authors use these functions to write their own records.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/dtype.h>
#include <leafio/record.h>

G_BEGIN_DECLS

#define LF_NPY_MAGIC "\x93NUMPY"
#define LF_NPY_MAGIC_LEN 6
/* Header text numpy >= 1.24 refuses to parse unless trusted. */
#define LF_NPY_MAX_HEADER_TEXT 10000
/* A buffer of this size holds any header lf_npy_header_format() writes. */
#define LF_NPY_HEADER_MAX 4096

/* Formats the header numpy writes for a C-ordered array (fortran_order
 * False) into `buffer` and returns its length (a multiple of 64 for the
 * numpy layout), or 0 when `buffer_size` is too small.
 *
 * `align` 0 gives numpy's layout.  Otherwise (a multiple of 64) the padding
 * makes `stream_offset + length` a multiple of `align`, so the data of a
 * record starting `stream_offset` bytes into a file lands on an aligned
 * file offset (np.load reads it all the same). */
LF_API gsize lf_npy_header_format (char *buffer, gsize buffer_size, LfDType dtype,
                                   guint ndim, const gsize *shape,
                                   guint64 stream_offset, guint align);

/**
 * lf_npy_describe:
 * @stream: a stream at the start of an npy record
 * @info: filled in: an array of the header's dtype and shape, its stored,
 *   header and data sizes
 * @error: return location for a #GError, or %NULL
 *
 * The `describe` of codecs whose records are npy records: peeks at the
 * header (lf_stream_peek()) and describes the record; the stream does
 * not move.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_TRUNCATED, %LF_ERROR_CORRUPT,
 *   %LF_ERROR_UNSUPPORTED or %LF_ERROR_IO, as lf_npy_read() reports them.
 *
 * Since: 0.2
 */
LF_API gboolean lf_npy_describe (LfStream *stream, LfRecordInfo *info, GError **error);

/* Header then data. */
LF_API LfNode *lf_npy_read (LfStream *stream, GError **error);

/* Writes an array or scalar leaf as one record (`align` as for
 * lf_npy_header_format, using the stream's position).  Abstract arrays,
 * containers and opaque leaves fail with LF_ERROR_UNSUPPORTED. */
LF_API gboolean lf_npy_write (LfStream *stream, const LfNode *leaf, guint align,
                              GError **error);

G_END_DECLS
