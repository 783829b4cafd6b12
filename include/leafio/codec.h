/* leafio: codecs and the plugin ABI.
 *
 * A codec decides how one leaf is stored: it writes a record for a leaf to a
 * stream (or nothing), and on load reads that record back given the leaf of
 * `like` in the same place (or returns `like`'s leaf unchanged).
 *
 * Writing a codec
 * ---------------
 * Fill a `static const LfCodecClass` with designated initialisers:
 *
 *   static const LfCodecClass my_codec = {
 *     .struct_size = sizeof (LfCodecClass),
 *     .name = "my-codec",
 *     .description = "one line for `leafio codecs`",
 *     .handles = my_handles,          // optional: which leaves get a record
 *     .serialise = my_serialise,
 *     .deserialise = my_deserialise,
 *   };
 *
 * and declare the plugin once, in the .so named after it (my-codec.so):
 *
 *   LF_PLUGIN_DEFINE ("my-codec", "1.0", "What this plugin offers", &my_codec);
 *
 * Options: a codec reference is text, `name` or `name(key=value, ...)`, and
 * values may be nested references: `compressed(level=19, inner=float16)`.
 * `parse_options` reads them through lf_codec_options_get_*(), which
 * validate types and ranges; an option nobody asked for is an error.  This
 * happens when the reference is resolved, never at first use.
 *
 * Symmetry: `handles` is asked about the tree's leaf on save and about
 * `like`'s leaf on load, and a leaf it refuses is neither written nor read,
 * so save and load always agree on which leaves have records.
 *
 * Ownership: `serialise` borrows `leaf`.  `deserialise` borrows `like` and
 * returns a new reference (return lf_node_ref (like) to keep it).
 *
 * Self-describing reads: `deserialise` may be called with `like` NULL by
 * tools that have no template (the CLI reading a file as a list of
 * records).  Return the record's value as it describes itself (npy: the
 * array as stored), or fail with LF_ERROR_UNSUPPORTED when the codec
 * cannot tell without a template.
 * Describing: `describe` tells what a record holds from its first bytes
 * (lf_stream_peek), without decoding it.  Loads check that description
 * against `like` before `deserialise` allocates or decompresses anything,
 * and the CLI, random-access readers and the MPI library use it to list,
 * skip and plan records.  Capabilities (`flags`, `get_capabilities`) say
 * what else the codec can do.  docs/PLUGINS.md has the whole contract.
 *
 * Errors: set `error` in the LF_ERROR domain and return FALSE / NULL; the
 * caller prefixes the file, record index, offset and leaf path.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/tree.h>

G_BEGIN_DECLS

/* ---- the codec vtable ------------------------------------------------------ */

/**
 * LF_CODEC_DEFAULT:
 *
 * The reference of the codec that stores a leaf when nobody chose one:
 * numpy's records, as Equinox writes them.  The one place its name is
 * spelled.
 *
 * Since: 0.2
 */
#define LF_CODEC_DEFAULT "npy"

/**
 * LfCodecFlags:
 * @LF_CODEC_PARALLEL_SMALL_LEAVES: `serialise` is CPU-bound and may run on
 *   several threads at once (for different leaves, each into its own memory
 *   stream).  Saves then encode scalars and array leaves under 2 MiB on a
 *   thread pool, a few ahead, and write the records in order: the file is
 *   the same as from one thread.  Bigger leaves are still written straight
 *   to the output, in the calling thread.
 * @LF_CODEC_ELEMENTWISE: each stored element depends on one element of the
 *   leaf only (a cast, a quantiser with a fixed scale), so a leaf's record
 *   can be made from pieces of it.
 * @LF_CODEC_ROW_RANGES: an array's record is an npy header for the stored
 *   dtype (lf_record_info_get_stored_dtype()) and the leaf's shape, as
 *   lf_npy_header_format() writes it with the codec's data alignment,
 *   followed by the data; encoding rows [a, b) of the leaf as an array of
 *   their own gives, after its header, exactly that block's bytes of the
 *   whole record's data, and decoding works the same way round.  What
 *   collective MPI saves and loads need to split a leaf by rows.
 * @LF_CODEC_RAW_DATA: an array's data part is the array's bytes as they are
 *   in memory on a little-endian host, so writers may send them without a
 *   copy.
 * @LF_CODEC_OFFSET_DEPENDENT: the record's bytes depend on where in the
 *   stream it starts (padding for alignment).
 *
 * What a codec can do, declared as data.  Static flags go in the class's
 * `flags`; a codec whose abilities depend on its options (npy's `align`,
 * a wrapper's inner codec) fills them in `get_capabilities`.
 *
 * Since: 0.1
 */
typedef enum {
  LF_CODEC_PARALLEL_SMALL_LEAVES = 1 << 0,
  LF_CODEC_ELEMENTWISE = 1 << 1,
  LF_CODEC_ROW_RANGES = 1 << 2,
  LF_CODEC_RAW_DATA = 1 << 3,
  LF_CODEC_OFFSET_DEPENDENT = 1 << 4,
} LfCodecFlags;

/**
 * LfCodecCapabilities:
 * @flags: #LfCodecFlags of this codec with its options
 * @data_alignment: records' data starts at a multiple of this many bytes
 *   from the start of the stream; 0 when the codec promises nothing
 * @inner: (nullable) (transfer none): the codec this one wraps, valid as
 *   long as the codec is
 *
 * What one codec instance (a class with its options) can do.
 *
 * Since: 0.2
 */
typedef struct {
  guint32 flags;
  guint32 data_alignment;
  const LfCodec *inner;
  /*< private >*/
  gpointer reserved[4];
} LfCodecCapabilities;

/**
 * LfCodecClass:
 * @struct_size: sizeof (LfCodecClass) when the codec was built
 * @flags: #LfCodecFlags that hold whatever the options
 * @name: the codec's name, `[a-z0-9][a-z0-9_-]*`, unique in a registry
 * @description: one line for `leafio codecs`
 * @parse_options: (nullable): reads the options and returns the codec's
 *   private data (lf_codec_get_data()), or %NULL with the error set; %NULL
 *   without an error means "no data".  A %NULL slot: the codec takes no
 *   options.
 * @free_options: (nullable): frees what @parse_options returned
 * @handles: (nullable): %TRUE when the leaf gets a record; a %NULL slot:
 *   every leaf does
 * @serialise: writes the leaf's record to the stream
 * @deserialise: reads the record for the leaf `like` and returns the
 *   loaded leaf (transfer full)
 * @describe: (nullable): describes the record at the stream's position
 *   from its first bytes, read with lf_stream_peek() only (the stream's
 *   position must not move), for the leaf `like` (%NULL: as the record
 *   describes itself).  A %NULL slot: the codec's records cannot be
 *   described, and tools that need it say so.
 * @get_capabilities: (nullable): fills in what this instance can do; the
 *   structure arrives with @flags copied in.  A %NULL slot: the class's
 *   @flags say all.
 * @class_data: free for the codec's author; see lf_registry_register_func()
 *
 * A codec: how one leaf is stored.  Plugins fill a `static const`
 * instance with designated initialisers.
 *
 * Since: 0.1
 */
struct _LfCodecClass {
  guint32 struct_size;
  guint32 flags;
  const char *name;
  const char *description;

  gpointer (*parse_options) (LfCodecOptions *options, GError **error);
  void (*free_options) (gpointer data);

  gboolean (*handles) (const LfCodec *codec, const LfNode *leaf);

  gboolean (*serialise) (const LfCodec *codec, LfStream *out, const LfPath *path,
                         LfNode *leaf, GError **error);
  LfNode *(*deserialise) (const LfCodec *codec, LfStream *in, const LfPath *path,
                          LfNode *like, GError **error);

  gboolean (*describe) (const LfCodec *codec, LfStream *in, const LfNode *like,
                        LfRecordInfo *info, GError **error);
  void (*get_capabilities) (const LfCodec *codec, LfCodecCapabilities *caps);

  gconstpointer class_data;
  /*< private >*/
  gpointer reserved[8];
};

/* ---- codec instances ------------------------------------------------------- */

/* An LfCodec is a class plus parsed options, made by lf_registry_resolve().
 * Immutable and ref-counted; safe to share between threads. */
LF_API LfCodec *lf_codec_ref (LfCodec *codec);
LF_API void lf_codec_unref (LfCodec *codec);     /* NULL is allowed */
LF_API const LfCodecClass *lf_codec_get_class (const LfCodec *codec);
LF_API const char *lf_codec_get_name (const LfCodec *codec);
/* What parse_options returned (transfer none). */
LF_API gpointer lf_codec_get_data (const LfCodec *codec);
/* The registry the codec was resolved in (transfer none). */
LF_API LfRegistry *lf_codec_get_registry (const LfCodec *codec);
/* The reference in canonical text form: "compressed(level=19, inner=float16)".
 * Free with g_free. */
LF_API char *lf_codec_to_string (const LfCodec *codec);

/* Whether `leaf` gets a record with this codec (the class's `handles`). */
LF_API gboolean lf_codec_handles (const LfCodec *codec, const LfNode *leaf);
/* Calls the class's serialise / deserialise; codecs that wrap another
 * codec use these. */
LF_API gboolean lf_codec_serialise (const LfCodec *codec, LfStream *out,
                                    const LfPath *path, LfNode *leaf, GError **error);
LF_API LfNode *lf_codec_deserialise (const LfCodec *codec, LfStream *in,
                                     const LfPath *path, LfNode *like, GError **error);

/**
 * lf_codec_describe:
 * @codec: a codec
 * @in: a stream positioned at the start of one of @codec's records
 * @like: (nullable): the leaf of `like` the record is for, or %NULL
 * @info: filled in; reset first
 * @error: return location for a #GError, or %NULL
 *
 * Describes the record at @in's position without decoding it and without
 * moving the position: what the walker checks against `like` before it
 * allocates or decompresses anything, and what `leafio inspect` prints.
 *
 * Returns: %TRUE with @info filled in; %FALSE with %LF_ERROR_UNSUPPORTED
 *   when the codec has no `describe` slot, or the codec's error
 *   (%LF_ERROR_TRUNCATED, %LF_ERROR_CORRUPT, ...).
 *
 * Since: 0.2
 */
LF_API gboolean lf_codec_describe (const LfCodec *codec, LfStream *in, const LfNode *like,
                                   LfRecordInfo *info, GError **error);

/**
 * lf_codec_can_describe:
 * @codec: a codec
 *
 * Returns: whether @codec's records can be described (lf_codec_describe()).
 *
 * Since: 0.2
 */
LF_API gboolean lf_codec_can_describe (const LfCodec *codec);

/**
 * lf_codec_get_capabilities:
 * @codec: a codec
 * @caps: (out caller-allocates): filled in
 *
 * What @codec, with its options, can do.
 *
 * Since: 0.2
 */
LF_API void lf_codec_get_capabilities (const LfCodec *codec, LfCodecCapabilities *caps);

/**
 * lf_codec_has_flags:
 * @codec: a codec
 * @flags: #LfCodecFlags
 *
 * Returns: %TRUE when @codec's capabilities include every one of @flags.
 *
 * Since: 0.2
 */
LF_API gboolean lf_codec_has_flags (const LfCodec *codec, guint32 flags);

/* For codecs, before reading data: fails with LF_ERROR_MISMATCH ("expected
 * float32 array of shape (2, 3), found float64 array of shape (3,)") when
 * `like` is an array of another dtype or shape.  TRUE when `like` is NULL
 * or not an array.  The walker applies the same check after every load. */
LF_API gboolean lf_codec_check_array_like (const LfNode *like, LfDType dtype, guint ndim,
                                           const gsize *shape, GError **error);

/* The check every load applies to a leaf a codec returned, so loaders
 * written outside the walker (the MPI library) agree with it: the loaded
 * leaf must be of `like`'s kind, arrays of its dtype and shape; a scalar
 * `like` accepts a scalar or a one-element array and converts the value to
 * its type as `type(x)(out.item())` does.  Returns a new reference, or NULL
 * with LF_ERROR_MISMATCH (or LF_ERROR_OVERFLOW from the conversion). */
LF_API LfNode *lf_codec_fit_to_like (const LfNode *like, LfNode *loaded, GError **error);

/* ---- options, for parse_options ------------------------------------------ */

/* Each getter marks `key` as used; an option left unused after
 * parse_options fails the resolution with LF_ERROR_OPTIONS.  A missing key
 * gives the default.  A bad value fails with LF_ERROR_OPTIONS naming the
 * codec, the key, the value and what was expected. */
LF_API gboolean lf_codec_options_get_int (LfCodecOptions *options, const char *key,
                                          gint64 min, gint64 max, gint64 default_value,
                                          gint64 *value, GError **error);
LF_API gboolean lf_codec_options_get_bool (LfCodecOptions *options, const char *key,
                                           gboolean default_value, gboolean *value,
                                           GError **error);
/* `choices` is NULL-terminated; stores the index of the chosen string. */
LF_API gboolean lf_codec_options_get_choice (LfCodecOptions *options, const char *key,
                                             const char *const *choices,
                                             guint default_index, guint *value,
                                             GError **error);
/* The raw text of a plain value (transfer none), or `default_value`. */
LF_API gboolean lf_codec_options_get_string (LfCodecOptions *options, const char *key,
                                             const char *default_value,
                                             const char **value, GError **error);
/* A nested codec reference resolved in the same registry (transfer full),
 * or `default_reference` resolved when the key is absent. */
LF_API LfCodec *lf_codec_options_get_codec (LfCodecOptions *options, const char *key,
                                            const char *default_reference,
                                            GError **error);
/* The name of the codec whose options these are. */
LF_API const char *lf_codec_options_get_codec_name (const LfCodecOptions *options);

/* ---- plugins --------------------------------------------------------------- */

/* Bumped on any incompatible change of LfPluginDesc or LfCodecClass.
 * 2: codecs describe records and declare capabilities (flags moved next to
 * struct_size, `describe` and `get_capabilities` added).  Plugins built for
 * another version are refused with LF_ERROR_PLUGIN_ABI. */
#define LF_PLUGIN_ABI_VERSION 2

typedef struct {
  guint32 abi_version;        /* LF_PLUGIN_ABI_VERSION */
  guint32 struct_size;        /* sizeof (LfPluginDesc) */
  const char *name;           /* equals the file's basename: "float16" for float16.so */
  const char *version;
  const char *description;
  const LfCodecClass *const *codecs; /* NULL-terminated, at least one */
  gboolean (*init) (GError **error); /* optional; FALSE refuses the load */
  gpointer reserved[4];
} LfPluginDesc;

#if defined(__GNUC__)
#define LF_PLUGIN_EXPORT __attribute__ ((visibility ("default")))
#else
#define LF_PLUGIN_EXPORT
#endif

/* The symbol every plugin exports. */
#define LF_PLUGIN_SYMBOL "lf_plugin_get_desc"

/* Declares the plugin: name, version, description, then one or more
 * `const LfCodecClass *`.  Use once per plugin. */
#define LF_PLUGIN_DEFINE(name_, version_, description_, ...)                   \
  LF_PLUGIN_DEFINE_FULL (name_, version_, description_, NULL, __VA_ARGS__)

/* The same with an init function `gboolean init (GError **error)`. */
#define LF_PLUGIN_DEFINE_FULL(name_, version_, description_, init_, ...)       \
  static const LfCodecClass *const lf_plugin_codecs_[] = { __VA_ARGS__, NULL }; \
  static const LfPluginDesc lf_plugin_desc_ = {                                \
    LF_PLUGIN_ABI_VERSION, sizeof (LfPluginDesc), name_, version_,             \
    description_, lf_plugin_codecs_, init_, { NULL, NULL, NULL, NULL } };      \
  G_BEGIN_DECLS                                                                \
  LF_PLUGIN_EXPORT const LfPluginDesc *lf_plugin_get_desc (void);              \
  G_END_DECLS                                                                  \
  LF_PLUGIN_EXPORT const LfPluginDesc *lf_plugin_get_desc (void)               \
  {                                                                            \
    return &lf_plugin_desc_;                                                   \
  }

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfCodec, lf_codec_unref)

G_END_DECLS
