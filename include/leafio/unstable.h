/**
 * SECTION:unstable
 * @title: Unstable API
 * @short_description: helpers for leafio's own MPI library, tests and benchmark
 * @stability: Unstable
 *
 * What this header declares serves leafio's own programs: the MPI library
 * reads records by offset into the loader's buffers and takes the
 * directory lock of saves, the tests and the benchmark switch converter
 * implementations and empty the buffer pool, the built-in codecs parse npy
 * headers into a fixed structure.  None of
 * it is part of the stable API: names, signatures and the layout of
 * #LfNpyHeader may change in any release, with no ABI promise, and the
 * ABI check of the library ignores them.
 *
 * The declarations are visible only to code that defines
 * `LEAFIO_UNSTABLE_API` before it includes `<leafio/leafio.h>`:
 *
 * |[<!-- language="C" -->
 * #define LEAFIO_UNSTABLE_API
 * #include <leafio/leafio.h>
 * ]|
 *
 * A program that does must be rebuilt with every release of leafio.  The
 * symbols stay exported from libleafio, so libleafio-mpi links them.
 * Codec authors can do without: lf_npy_describe() tells an npy record's
 * dtype and shape before lf_npy_read() reads it.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#if defined(LEAFIO_UNSTABLE_API) || defined(LEAFIO_COMPILATION)

#include <leafio/types.h>
#include <leafio/dtype.h>
#include <leafio/tree.h>
#include <leafio/checkpoint.h>
#include <leafio/atomic-file.h>
#include <leafio/codec.h>
#include <leafio/record.h>

G_BEGIN_DECLS

/* ---- npy headers -------------------------------------------------------------- */

/**
 * LfNpyHeader:
 * @major: the format version's major number (1, 2 or 3)
 * @minor: the format version's minor number
 * @dtype: the element type
 * @swap: the data is in the other byte order than this machine's
 * @fortran_order: the data is in Fortran (column-major) order
 * @ndim: the number of dimensions
 * @shape: the dimensions (@ndim of them are set)
 * @header_size: bytes from the magic to the first data byte
 * @data_size: bytes of data after the header
 * @descr: the descr as written, NUL-terminated, for messages
 *
 * A parsed npy header.  Its size grows with %LF_MAX_NDIM, which is why it
 * is not in the stable API.
 *
 * Stability: Unstable
 * Since: 0.1
 */
typedef struct {
  guint8 major, minor;
  LfDType dtype;
  gboolean swap;
  gboolean fortran_order;
  guint ndim;
  gsize shape[LF_MAX_NDIM];
  gsize header_size;
  gsize data_size;
  char descr[16];
} LfNpyHeader;

/**
 * lf_npy_header_parse:
 * @bytes: (array length=size): the start of a record
 * @size: how many bytes @bytes holds; may pass the header's end
 * @header: (out caller-allocates): filled in; header_size says where the
 *   data starts
 * @error: return location for a #GError, or %NULL
 *
 * Parses a complete header held in memory: magic, version, length and
 * dict.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_TRUNCATED when @size is too
 *   small, %LF_ERROR_CORRUPT for a bad magic, version or dict,
 *   %LF_ERROR_UNSUPPORTED for a refused dtype.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API gboolean lf_npy_header_parse (const guint8 *bytes, gsize size,
                                     LfNpyHeader *header, GError **error);

/**
 * lf_npy_header_parse_dict:
 * @text: (array length=length): the dict text, not NUL-terminated
 * @length: its length in bytes
 * @header: (out caller-allocates): its dtype, order and shape are filled in
 * @error: return location for a #GError, or %NULL
 *
 * Parses just the Python dict literal of a header.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_CORRUPT for a malformed dict,
 *   %LF_ERROR_UNSUPPORTED for a refused dtype.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API gboolean lf_npy_header_parse_dict (const char *text, gsize length,
                                          LfNpyHeader *header, GError **error);

/**
 * lf_npy_read_header:
 * @stream: a stream at the start of an npy record
 * @header: (out caller-allocates): filled in
 * @error: return location for a #GError, or %NULL
 *
 * Reads a header from @stream, consuming exactly its bytes.
 *
 * Returns: %TRUE, or %FALSE with the errors of lf_npy_header_parse() and
 *   %LF_ERROR_IO on a read error.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API gboolean lf_npy_read_header (LfStream *stream, LfNpyHeader *header,
                                    GError **error);

/**
 * lf_npy_peek_header:
 * @stream: a stream at the start of an npy record
 * @header: (out caller-allocates): filled in
 * @error: return location for a #GError, or %NULL
 *
 * Parses the header of the record at @stream's position without consuming
 * it (lf_stream_peek()): the next read still starts at the magic.
 *
 * Returns: %TRUE, or %FALSE with the errors of lf_npy_read_header().
 *
 * Stability: Unstable
 * Since: 0.2
 */
LF_API gboolean lf_npy_peek_header (LfStream *stream, LfNpyHeader *header, GError **error);

/**
 * lf_npy_read_data:
 * @stream: a stream right after the header
 * @header: the header lf_npy_read_header() read
 * @error: return location for a #GError, or %NULL
 *
 * Reads the data @header announces.  The declared size is checked against
 * what the stream has left when that is known, before anything is
 * allocated.
 *
 * Returns: (transfer full): an array leaf in native byte order and C
 *   order, or %NULL with %LF_ERROR_TRUNCATED when the input ends first,
 *   %LF_ERROR_IO on a read error.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API LfNode *lf_npy_read_data (LfStream *stream, const LfNpyHeader *header,
                                 GError **error);

/* ---- streams ------------------------------------------------------------------ */

/**
 * lf_stream_expect:
 * @stream: a writable stream
 * @count: how many bytes the writer is about to write
 *
 * A hint from a writer that knows the size of what it writes next in small
 * pieces (the float16 codec writing converted chunks).  A stream over a
 * regular file reserves the blocks at once, which makes the writes cheaper
 * on filesystems with delayed allocation (ext4); other streams ignore it.
 * The file's contents and size still follow the writes alone (blocks
 * reserved past them are released when a path save finishes).  Never
 * fails: the writes report any error.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API void lf_stream_expect (LfStream *stream, guint64 count);

/* ---- scanning a file's records ---------------------------------------------------- */

/**
 * lf_codec_measure_record:
 * @codec: the codec that wrote the record
 * @stream: a stream at the record's first byte
 * @path: (nullable): the leaf's path, for a codec's messages
 * @like: the leaf the record must fit
 * @left: the bytes from the record's first byte to the end of the file
 * @info: (out caller-allocates): the record's description, when the codec
 *   gives one
 * @size: (out): the record's stored size
 * @decoded: (out) (transfer full) (nullable): the leaf, when the record had
 *   to be decoded to find its end; then @stream is past the record and
 *   @info is not filled in
 * @error: return location for a #GError, or %NULL
 *
 * What a scan of a file's records (lf_file_open(), the MPI library's
 * offset table) asks of each record before it skips past it: the codec
 * describes the record (lf_codec_describe(), @stream stays where it is)
 * and the description is checked against @like, as a load checks it; a
 * codec that cannot describe its records, or cannot tell their size from
 * their first bytes, has the record decoded and fitted to @like instead.
 *
 * Returns: %TRUE, or %FALSE with the errors of lf_codec_describe(),
 *   lf_record_info_check_like(), the codec's deserialise and
 *   lf_codec_fit_to_like(), or %LF_ERROR_TRUNCATED when the record is
 *   longer than @left.
 *
 * Stability: Unstable
 * Since: 0.2
 */
LF_API gboolean lf_codec_measure_record (LfCodec *codec, LfStream *stream, const LfPath *path,
                                         LfNode *like, guint64 left, LfRecordInfo *info,
                                         guint64 *size, LfNode **decoded, GError **error);

/* ---- where a save may go ---------------------------------------------------------- */

/**
 * lf_path_check_names_file:
 * @path: where a save was asked to go
 * @error: return location for a #GError, or %NULL
 *
 * For savers of their own (the MPI library): whether @path names a file a
 * save can write, as path saves check it.  "", ".", "./" and "/" name a
 * directory; Equinox refuses them, where adding ".eqx" would make a hidden
 * file of them.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_IO naming @path.
 *
 * Stability: Unstable
 * Since: 0.2
 */
LF_API gboolean lf_path_check_names_file (const char *path, GError **error);

/* ---- the directory lock of saves -------------------------------------------------- */

/**
 * lf_atomic_file_lock_directory:
 * @file: a file not yet committed
 *
 * For savers that put a manifest beside the file themselves (the MPI
 * library): takes the exclusive flock that path saves hold on the
 * directory @file will be renamed into, from removing the old manifest
 * (lf_manifest_remove()) through lf_atomic_file_commit() to writing the new
 * one, so that two saves of one path never leave one's data beside the
 * other's manifest.  Blocks while another save holds it.
 *
 * Returns: the lock, for lf_atomic_file_unlock_directory(); -1 when the
 *   directory cannot be opened or locked, and the save goes on unlocked,
 *   as path saves do.
 *
 * Stability: Unstable
 * Since: 0.2
 */
LF_API int lf_atomic_file_lock_directory (const LfAtomicFile *file);

/**
 * lf_atomic_file_unlock_directory:
 * @lock: what lf_atomic_file_lock_directory() returned (-1 is allowed)
 *
 * Releases the directory lock.
 *
 * Stability: Unstable
 * Since: 0.2
 */
LF_API void lf_atomic_file_unlock_directory (int lock);

/* ---- read buffers --------------------------------------------------------------- */

/**
 * lf_release_read_buffers:
 *
 * Returns the memory of the read-buffer pool to the system now.  Arrays
 * loaded from a path own buffers of their own (from 256 KiB; from 4 KiB
 * they share 2 MiB slabs, and a slab is freed with its last array); when
 * one is freed, its memory is kept (marked MADV_FREE, so the kernel can
 * still take it back) and reused by the next load, which then skips the
 * page faults and zeroing of fresh memory.  The pool holds at most
 * `$LEAFIO_BUFFER_POOL_MB` mebibytes (default 1024; 0 turns it off).
 * Thread-safe.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API void lf_release_read_buffers (void);

/**
 * lf_read_buffer_new:
 * @size: bytes of file data the buffer holds
 * @file_offset: the file offset of its first byte
 * @data: (out) (transfer none): where to write the bytes
 *
 * For loaders that read records by offset themselves (the MPI library): a
 * buffer from the read-buffer pool, placed at @file_offset's address
 * modulo 4 KiB (rounded down to 64 bytes) so the kernel's copy runs at full
 * speed.  Its bytes are not zeroed: fill all of them.  Each buffer is a
 * mapping of its own (whole pages): meant for reads of 1 MiB and more.
 * Thread-safe.
 *
 * Returns: (transfer full) (nullable): #GBytes over *@data (freeing it
 *   returns the memory to the pool), or %NULL when no memory could be
 *   mapped.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API GBytes *lf_read_buffer_new (gsize size, guint64 file_offset, guint8 **data);

/* ---- converter implementations ------------------------------------------------- */

/**
 * LfConvertImpl:
 * @LF_CONVERT_IMPL_AUTO: the fastest the CPU supports (the default)
 * @LF_CONVERT_IMPL_PORTABLE: plain C, any CPU
 * @LF_CONVERT_IMPL_F16C: x86-64 F16C and AVX instructions
 *
 * The implementations of the float32 to float16 converters and back.
 *
 * Stability: Unstable
 * Since: 0.1
 */
typedef enum {
  LF_CONVERT_IMPL_AUTO = 0,
  LF_CONVERT_IMPL_PORTABLE,
  LF_CONVERT_IMPL_F16C,
} LfConvertImpl;

/**
 * lf_convert_set_impl:
 * @impl: the implementation to use
 *
 * Forces an implementation of the float32 to float16 converters and
 * back, for tests and benchmarks that compare them.  Process wide; not to
 * be changed while conversions run in other threads.  The environment variable
 * `LEAFIO_CONVERT=portable` forces the portable path at start-up.
 *
 * Returns: %FALSE when the CPU lacks @impl.
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API gboolean lf_convert_set_impl (LfConvertImpl impl);

/**
 * lf_convert_get_impl:
 *
 * The implementation of the float32 to float16 converters in use.
 *
 * Returns: the implementation in use (never %LF_CONVERT_IMPL_AUTO).
 *
 * Stability: Unstable
 * Since: 0.1
 */
LF_API LfConvertImpl lf_convert_get_impl (void);

/* ---- checkpoint managers shared by a group of processes ------------------------ */

/**
 * LfCheckpointGroup:
 * @struct_size: sizeof (LfCheckpointGroup)
 * @rank: this process's rank in the group; rank 0 leads
 * @threads: whether @agree and @broadcast may be called from a thread of
 *   the manager's own while the program calls others (for MPI:
 *   MPI_THREAD_MULTIPLE was provided); without it,
 *   lf_checkpoint_manager_save_async() saves before it returns
 * @agree: collective: `*error` is this rank's error or %NULL; returns
 *   %TRUE when no rank failed, otherwise gives every rank the same error,
 *   naming the rank it came from, and returns %FALSE
 * @broadcast: collective: returns (transfer full) rank 0's @bytes on every
 *   rank (@bytes is %NULL on the others)
 * @free_data: (nullable): frees the group's data when the manager closes
 *
 * How the processes of a group (the ranks of an MPI communicator) that
 * share one checkpoint manager talk to each other, for
 * lf_checkpoint_manager_open_group().  libleafio-mpi fills it in for
 * lf_mpi_checkpoint_manager_open(); the core knows nothing of MPI.
 *
 * Stability: Unstable
 * Since: 0.2
 */
typedef struct {
  guint32 struct_size;
  int rank;
  gboolean threads;
  gboolean (*agree) (gpointer data, GError **error);
  GBytes *(*broadcast) (gpointer data, GBytes *bytes);
  GDestroyNotify free_data;
} LfCheckpointGroup;

/**
 * lf_checkpoint_manager_open_group:
 * @directory: the checkpoint directory, the same on every rank
 * @group: how the ranks talk; copied
 * @data: (transfer full): for @group's functions, freed with its
 *   free_data when the manager closes (also when this fails)
 * @error: return location for a #GError, or %NULL
 *
 * Collective: lf_checkpoint_manager_open() for a group of processes that
 * save and restore together through collective IO functions
 * (lf_checkpoint_manager_set_io(), whose save and load every rank calls and
 * which return the same outcome on every rank).  Rank 0 leads: it holds
 * the directory's lock, writes the commit records, syncs the directory and
 * applies retention.  The other ranks follow: they take no lock, write
 * nothing but what the IO functions do, and learn the steps from rank 0
 * after every change, so every rank lists the same steps and restores the
 * same latest one.  Saving (also asynchronously), waiting, restoring,
 * removing and closing are collective; every rank gets the same outcome.
 *
 * Returns: (transfer full) (nullable): the manager, or %NULL with the
 *   errors of lf_checkpoint_manager_open() on every rank.
 *
 * Stability: Unstable
 * Since: 0.2
 */
LF_API LfCheckpointManager *lf_checkpoint_manager_open_group (const char *directory,
                                                              const LfCheckpointGroup *group,
                                                              gpointer data, GError **error);

G_END_DECLS

#endif /* LEAFIO_UNSTABLE_API || LEAFIO_COMPILATION */
