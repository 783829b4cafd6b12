/**
 * SECTION:npy
 * @title: npy records
 * @short_description: records byte for byte as numpy writes them
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
 * Codec authors use these functions to write their own records, and
 * lf_npy_describe() to check a record before lf_npy_read() allocates it.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/dtype.h>
#include <leafio/record.h>

G_BEGIN_DECLS

/**
 * LF_NPY_MAGIC:
 *
 * The bytes every npy record starts with.
 *
 * Since: 0.1
 */
#define LF_NPY_MAGIC "\x93NUMPY"
/**
 * LF_NPY_MAGIC_LEN:
 *
 * The length of %LF_NPY_MAGIC.
 *
 * Since: 0.1
 */
#define LF_NPY_MAGIC_LEN 6
/**
 * LF_NPY_MAX_HEADER_TEXT:
 *
 * The longest header text numpy >= 1.24 parses unless told to trust the
 * file; the reader refuses longer ones.
 *
 * Since: 0.1
 */
#define LF_NPY_MAX_HEADER_TEXT 10000
/**
 * LF_NPY_HEADER_MAX:
 *
 * A buffer of this size holds any header lf_npy_header_format() writes
 * with numpy's layout; an alignment may need up to its own size more.
 *
 * Since: 0.1
 */
#define LF_NPY_HEADER_MAX 4096

/**
 * lf_npy_header_format:
 * @buffer: (out caller-allocates) (array length=buffer_size): where the
 *   header goes
 * @buffer_size: the size of @buffer
 * @dtype: the element type
 * @ndim: the number of dimensions
 * @shape: (array length=ndim) (nullable): the dimensions
 * @stream_offset: where in the stream the record starts (used with @align)
 * @align: 0 for numpy's layout; otherwise a multiple of 64 that
 *   @stream_offset plus the header's length is made a multiple of
 *
 * Formats the header numpy writes for a C-ordered array (fortran_order
 * False).  With @align the padding puts the data of a record starting
 * @stream_offset bytes into a file on an aligned file offset (np.load
 * reads it all the same).
 *
 * Returns: the header's length (a multiple of 64 for the numpy layout),
 *   or 0 when @buffer_size is too small.
 *
 * Since: 0.1
 */
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

/**
 * lf_npy_describe_at:
 * @stream: a readable stream
 * @offset: where the npy record starts, in bytes past @stream's position
 * @info: filled in, as lf_npy_describe() does
 * @error: return location for a #GError, or %NULL
 *
 * lf_npy_describe() for an npy record that starts @offset bytes into the
 * record at the stream's position: the second of two npy records a codec
 * writes back to back, say (its offset is the first one's stored size).
 * The stream does not move; the header must end within
 * %LF_STREAM_PEEK_MAX bytes of the stream's position.
 *
 * Returns: %TRUE, or %FALSE with the errors of lf_npy_describe(), or
 *   %LF_ERROR_UNSUPPORTED when the header lies past what a description may
 *   peek at.
 *
 * Since: 0.2
 */
LF_API gboolean lf_npy_describe_at (LfStream *stream, guint64 offset, LfRecordInfo *info,
                                    GError **error);

/**
 * lf_npy_read:
 * @stream: a stream at the start of an npy record
 * @error: return location for a #GError, or %NULL
 *
 * Reads one record, header then data, consuming exactly its bytes.  The
 * data's declared size is checked against what the stream has left when
 * that is known, before anything is allocated.
 *
 * Returns: (transfer full) (nullable): an array leaf in native byte order
 *   and C order, or %NULL with %LF_ERROR_TRUNCATED (the input ends
 *   first), %LF_ERROR_CORRUPT (a bad magic, version or header),
 *   %LF_ERROR_UNSUPPORTED (a refused dtype) or %LF_ERROR_IO.
 *
 * Since: 0.1
 */
LF_API LfNode *lf_npy_read (LfStream *stream, GError **error);

/**
 * lf_npy_write:
 * @stream: a writable stream
 * @leaf: an array or scalar leaf (a scalar is written as a 0-d array)
 * @align: as for lf_npy_header_format(), with the stream's position as
 *   the record's offset
 * @error: return location for a #GError, or %NULL
 *
 * Writes @leaf as one record.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_UNSUPPORTED for abstract
 *   arrays, containers, opaque leaves and an @align that makes the header
 *   longer than numpy reads, or the stream's write error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_npy_write (LfStream *stream, const LfNode *leaf, guint align,
                              GError **error);

G_END_DECLS
