/**
 * SECTION:codec
 * @title: Codecs
 * @short_description: how one leaf is stored, and the plugin ABI
 *
 * A codec decides how one leaf is stored: it writes a record for a leaf to a
 * stream (or nothing), and on load reads that record back given the leaf of
 * `like` in the same place (or returns `like`'s leaf unchanged).
 *
 * ## Writing a codec
 *
 * Fill a `static const` #LfCodecClass with designated initialisers:
 *
 * |[<!-- language="C" -->
 * static const LfCodecClass my_codec = {
 *   .struct_size = sizeof (LfCodecClass),
 *   .name = "my-codec",
 *   .description = "one line for `leafio codecs`",
 *   .handles = my_handles,          // optional: which leaves get a record
 *   .serialise = my_serialise,
 *   .deserialise = my_deserialise,
 *   .describe = my_describe,        // optional: what a record holds
 * };
 * ]|
 *
 * and declare the plugin once, in the .so named after it (my-codec.so):
 *
 * |[<!-- language="C" -->
 * LF_PLUGIN_DEFINE ("my-codec", "1.0", "What this plugin offers", &my_codec);
 * ]|
 *
 * Options: a codec reference is text, `name` or `name(key=value, ...)`, and
 * values may be nested references: `compressed(level=19, inner=float16)`.
 * `parse_options` reads them through lf_codec_options_get_int() and its
 * siblings, which validate types and ranges; an option nobody asked for is
 * an error.  This happens when the reference is resolved, never at first
 * use.
 *
 * Symmetry: `handles` is asked about the tree's leaf on save and about
 * `like`'s leaf on load, and a leaf it refuses is neither written nor read,
 * so save and load always agree on which leaves have records.
 *
 * Ownership: `serialise` borrows the leaf.  `deserialise` borrows `like`
 * and returns a new reference (return lf_node_ref (like) to keep it).
 *
 * Self-describing reads: `deserialise` may be called with `like` %NULL by
 * tools that have no template (the CLI reading a file as a list of
 * records).  Return the record's value as it describes itself (npy: the
 * array as stored), or fail with %LF_ERROR_UNSUPPORTED when the codec
 * cannot tell without a template.
 *
 * Describing: `describe` tells what a record holds from its first bytes
 * (lf_stream_peek()), without decoding it.  Loads check that description
 * against `like` before `deserialise` allocates or decompresses anything,
 * and the CLI, random-access readers and the MPI library use it to list,
 * skip and plan records.  Capabilities (`flags`, `get_capabilities`) say
 * what else the codec can do.  docs/PLUGINS.md has the whole contract.
 *
 * Errors: set the error in the %LF_ERROR domain and return %FALSE or
 * %NULL; the caller prefixes the file, record index, offset and leaf path.
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
 * @LF_CODEC_CHECKS_LIKE: `deserialise` itself checks the record against
 *   `like` as lf_record_info_check_like() does, from the record's header and
 *   before it allocates or reads any data, so loads skip the separate
 *   describe step (npy sets it: its header is the whole description, and
 *   parsing it twice cost small-leaf loads a third of their time).
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
  LF_CODEC_CHECKS_LIKE = 1 << 5,
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
typedef struct _LfCodecClass LfCodecClass;
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

/**
 * lf_codec_ref:
 * @codec: a codec
 *
 * Adds a reference.  Codecs are made by lf_registry_resolve(); they are
 * immutable and safe to share between threads.
 *
 * Returns: (transfer full): @codec
 *
 * Since: 0.1
 */
LF_API LfCodec *lf_codec_ref (LfCodec *codec);
/**
 * lf_codec_unref:
 * @codec: (nullable) (transfer full): a codec
 *
 * Drops a reference; the options are freed with the last one.
 *
 * Since: 0.1
 */
LF_API void lf_codec_unref (LfCodec *codec);
/**
 * lf_codec_get_class:
 * @codec: a codec
 *
 * The class of a codec.
 *
 * Returns: (transfer none): the codec's class.
 *
 * Since: 0.1
 */
LF_API const LfCodecClass *lf_codec_get_class (const LfCodec *codec);
/**
 * lf_codec_get_name:
 * @codec: a codec
 *
 * The name of a codec.
 *
 * Returns: (transfer none): the class's name.
 *
 * Since: 0.1
 */
LF_API const char *lf_codec_get_name (const LfCodec *codec);
/**
 * lf_codec_get_data:
 * @codec: a codec
 *
 * The private data of a codec, which its class made from the options.
 *
 * Returns: (transfer none) (nullable): what the class's `parse_options`
 *   returned.
 *
 * Since: 0.1
 */
LF_API gpointer lf_codec_get_data (const LfCodec *codec);
/**
 * lf_codec_get_registry:
 * @codec: a codec
 *
 * The registry a codec came from; nested references in its options resolve there.
 *
 * Returns: (transfer none): the registry the codec was resolved in.
 *
 * Since: 0.1
 */
LF_API LfRegistry *lf_codec_get_registry (const LfCodec *codec);
/**
 * lf_codec_to_string:
 * @codec: a codec
 *
 * The reference that makes this codec again.
 *
 * Returns: (transfer full): the reference in canonical text form:
 *   "compressed(level=19, inner=float16)".  Free with g_free().
 *
 * Since: 0.1
 */
LF_API char *lf_codec_to_string (const LfCodec *codec);

/**
 * lf_codec_handles:
 * @codec: a codec
 * @leaf: a leaf
 *
 * Whether a leaf gets a record.
 *
 * Returns: whether @leaf gets a record with this codec (the class's
 *   `handles`; %TRUE when the class has none).
 *
 * Since: 0.1
 */
LF_API gboolean lf_codec_handles (const LfCodec *codec, const LfNode *leaf);
/**
 * lf_codec_serialise:
 * @codec: a codec
 * @out: the stream to write to
 * @path: the leaf's path, for messages
 * @leaf: (transfer none): the leaf
 * @error: return location for a #GError, or %NULL
 *
 * Calls the class's `serialise`; codecs that wrap another codec use it.
 *
 * Returns: %TRUE, or %FALSE with the codec's error.
 *
 * Since: 0.1
 */
LF_API gboolean lf_codec_serialise (const LfCodec *codec, LfStream *out,
                                    const LfPath *path, LfNode *leaf, GError **error);
/**
 * lf_codec_deserialise:
 * @codec: a codec
 * @in: the stream at the record's start
 * @path: the leaf's path, for messages
 * @like: (nullable) (transfer none): the leaf of `like` in the same place,
 *   or %NULL for a self-describing read
 * @error: return location for a #GError, or %NULL
 *
 * Calls the class's `deserialise`; codecs that wrap another codec use it.
 *
 * Returns: (transfer full) (nullable): the loaded leaf, or %NULL with the
 *   codec's error.
 *
 * Since: 0.1
 */
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
 * Whether lf_codec_describe() works for this codec: it has a `describe`
 * slot and, when it wraps another codec (#LfCodecCapabilities.inner), so
 * does the codec it wraps.  Records of other codecs load without the
 * check before decoding; the loaded leaf is checked instead.
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
 * Tests a codec's capabilities (lf_codec_get_capabilities()).
 *
 * Returns: %TRUE when @codec's capabilities include every one of @flags.
 *
 * Since: 0.2
 */
LF_API gboolean lf_codec_has_flags (const LfCodec *codec, guint32 flags);

/**
 * lf_codec_check_array_like:
 * @like: (nullable): the leaf of `like` a record is loaded for
 * @dtype: the dtype of the array the record holds
 * @ndim: its number of dimensions
 * @shape: (array length=ndim) (nullable): its dimensions
 * @error: return location for a #GError, or %NULL
 *
 * For codecs, before reading data: the array a record holds must have an
 * array @like's dtype and shape.  The walker applies the same check after
 * every load.
 *
 * Returns: %TRUE when @like is %NULL, not an array, or matches; otherwise
 *   %FALSE with %LF_ERROR_MISMATCH ("expected float32 array of shape (2,
 *   3), found float64 array of shape (3,)").
 *
 * Since: 0.1
 */
LF_API gboolean lf_codec_check_array_like (const LfNode *like, LfDType dtype, guint ndim,
                                           const gsize *shape, GError **error);

/**
 * lf_codec_fit_to_like:
 * @like: the leaf of `like`
 * @loaded: (transfer none): the leaf a codec returned
 * @error: return location for a #GError, or %NULL
 *
 * The check every load applies to a leaf a codec returned, so loaders
 * written outside the walker (the MPI library) agree with it: the loaded
 * leaf must be of @like's kind, arrays of its dtype and shape; a scalar
 * @like accepts a scalar or a one-element array and converts the value to
 * its type as `type(x)(out.item())` does.
 *
 * Returns: (transfer full) (nullable): the leaf to keep, or %NULL with
 *   %LF_ERROR_MISMATCH (or %LF_ERROR_OVERFLOW from the conversion).
 *
 * Since: 0.1
 */
LF_API LfNode *lf_codec_fit_to_like (const LfNode *like, LfNode *loaded, GError **error);

/* ---- options, for parse_options ------------------------------------------ */

/* Each getter marks its key as used; an option left unused after
 * parse_options fails the resolution with LF_ERROR_OPTIONS.  A missing key
 * gives the default. */

/**
 * lf_codec_options_get_int:
 * @options: the options being parsed
 * @key: the option's name
 * @min: the smallest value accepted
 * @max: the largest value accepted
 * @default_value: the value when @key is absent
 * @value: (out): the value
 * @error: return location for a #GError, or %NULL
 *
 * Reads an integer option and marks @key as used.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_OPTIONS naming the codec, the
 *   key, the value and what was expected.
 *
 * Since: 0.1
 */
LF_API gboolean lf_codec_options_get_int (LfCodecOptions *options, const char *key,
                                          gint64 min, gint64 max, gint64 default_value,
                                          gint64 *value, GError **error);
/**
 * lf_codec_options_get_bool:
 * @options: the options being parsed
 * @key: the option's name
 * @default_value: the value when @key is absent
 * @value: (out): the value
 * @error: return location for a #GError, or %NULL
 *
 * Reads a boolean option (true, false, yes, no, 1 or 0) and marks @key
 * as used.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_OPTIONS.
 *
 * Since: 0.1
 */
LF_API gboolean lf_codec_options_get_bool (LfCodecOptions *options, const char *key,
                                           gboolean default_value, gboolean *value,
                                           GError **error);
/**
 * lf_codec_options_get_choice:
 * @options: the options being parsed
 * @key: the option's name
 * @choices: (array zero-terminated=1): the accepted strings
 * @default_index: the index when @key is absent
 * @value: (out): the index of the chosen string
 * @error: return location for a #GError, or %NULL
 *
 * Reads an option that is one of @choices and marks @key as used.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_OPTIONS listing the choices.
 *
 * Since: 0.1
 */
LF_API gboolean lf_codec_options_get_choice (LfCodecOptions *options, const char *key,
                                             const char *const *choices,
                                             guint default_index, guint *value,
                                             GError **error);
/**
 * lf_codec_options_get_string:
 * @options: the options being parsed
 * @key: the option's name
 * @default_value: (nullable): the value when @key is absent
 * @value: (out) (transfer none) (nullable): the raw text of a plain value,
 *   valid while @options lives
 * @error: return location for a #GError, or %NULL
 *
 * Reads an option as text and marks @key as used.
 *
 * Returns: %TRUE, or %FALSE with %LF_ERROR_OPTIONS when the value is a
 *   nested reference rather than plain text.
 *
 * Since: 0.1
 */
LF_API gboolean lf_codec_options_get_string (LfCodecOptions *options, const char *key,
                                             const char *default_value,
                                             const char **value, GError **error);
/**
 * lf_codec_options_get_codec:
 * @options: the options being parsed
 * @key: the option's name
 * @default_reference: the reference resolved when @key is absent
 * @error: return location for a #GError, or %NULL
 *
 * Reads a nested codec reference, resolved in the same registry, and
 * marks @key as used.
 *
 * Returns: (transfer full) (nullable): the codec, or %NULL with the errors
 *   of lf_registry_resolve().
 *
 * Since: 0.1
 */
LF_API LfCodec *lf_codec_options_get_codec (LfCodecOptions *options, const char *key,
                                            const char *default_reference,
                                            GError **error);
/**
 * lf_codec_options_get_codec_name:
 * @options: the options being parsed
 *
 * The codec being configured, for messages.
 *
 * Returns: (transfer none): the name of the codec whose options these are.
 *
 * Since: 0.1
 */
LF_API const char *lf_codec_options_get_codec_name (const LfCodecOptions *options);

/* ---- plugins --------------------------------------------------------------- */

/**
 * LF_PLUGIN_ABI_VERSION:
 *
 * The version of the plugin ABI, bumped on any incompatible change of
 * #LfPluginDesc or #LfCodecClass.  2: codecs describe records and declare
 * capabilities (flags moved next to struct_size, `describe` and
 * `get_capabilities` added).  Plugins built for another version are
 * refused with %LF_ERROR_PLUGIN_ABI.
 *
 * Since: 0.1
 */
#define LF_PLUGIN_ABI_VERSION 2

/**
 * LfPluginDesc:
 * @abi_version: %LF_PLUGIN_ABI_VERSION
 * @struct_size: sizeof (LfPluginDesc)
 * @name: equals the file's basename: "float16" for float16.so
 * @version: the plugin's own version
 * @description: one line for `leafio codecs`
 * @codecs: (array zero-terminated=1): the plugin's codecs, at least one
 * @init: (nullable): called once before the codecs are registered;
 *   returning %FALSE with the error set refuses the load
 *
 * What a plugin exports, through the function %LF_PLUGIN_SYMBOL names.
 * Plugins make it with LF_PLUGIN_DEFINE() rather than by hand.
 *
 * Since: 0.1
 */
typedef struct {
  guint32 abi_version;
  guint32 struct_size;
  const char *name;
  const char *version;
  const char *description;
  const LfCodecClass *const *codecs;
  gboolean (*init) (GError **error);
  /*< private >*/
  gpointer reserved[4];
} LfPluginDesc;

/**
 * LF_PLUGIN_EXPORT:
 *
 * Exports a plugin's descriptor function from a .so built with hidden
 * visibility.
 *
 * Since: 0.1
 */
#if defined(__GNUC__)
#define LF_PLUGIN_EXPORT __attribute__ ((visibility ("default")))
#else
#define LF_PLUGIN_EXPORT
#endif

/**
 * LF_PLUGIN_SYMBOL:
 *
 * The name of the function every plugin exports: it takes nothing and
 * returns its `const LfPluginDesc *`.
 *
 * Since: 0.1
 */
#define LF_PLUGIN_SYMBOL "lf_plugin_get_desc"

/**
 * LF_PLUGIN_DEFINE:
 * @name_: the plugin's name, the .so's basename
 * @version_: the plugin's version
 * @description_: one line for `leafio codecs`
 * @...: one or more `const LfCodecClass *`
 *
 * Declares the plugin.  Use once per plugin.
 *
 * Since: 0.1
 */
#define LF_PLUGIN_DEFINE(name_, version_, description_, ...)                   \
  LF_PLUGIN_DEFINE_FULL (name_, version_, description_, NULL, __VA_ARGS__)

/**
 * LF_PLUGIN_DEFINE_FULL:
 * @name_: the plugin's name, the .so's basename
 * @version_: the plugin's version
 * @description_: one line for `leafio codecs`
 * @init_: (nullable): a `gboolean init (GError **error)` function
 * @...: one or more `const LfCodecClass *`
 *
 * LF_PLUGIN_DEFINE() with an init function.
 *
 * Since: 0.1
 */
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
