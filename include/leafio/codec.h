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

typedef enum {
  /* `serialise` is CPU-bound and may run on several threads at once (for
   * different leaves, each into its own memory stream).  Saves then encode
   * scalars and array leaves under 2 MiB on a thread pool, a few ahead, and
   * write the records in order: the file is the same as from one thread.
   * Bigger leaves are still written straight to the output, in the calling
   * thread.  `compressed` sets it. */
  LF_CODEC_PARALLEL_SMALL_LEAVES = 1 << 0,
} LfCodecFlags;

struct _LfCodecClass {
  guint32 struct_size;        /* sizeof (LfCodecClass) when built */
  const char *name;           /* [a-z0-9][a-z0-9_-]*, unique in a registry */
  const char *description;    /* one line */

  /* Optional.  Reads `options` and returns the codec's private data
   * (lf_codec_get_data), or NULL with `error` set.  NULL slot: the codec
   * takes no options.  Returning NULL without an error means "no data". */
  gpointer (*parse_options) (LfCodecOptions *options, GError **error);
  /* Optional.  Frees what parse_options returned. */
  void (*free_options) (gpointer data);

  /* Optional.  TRUE when `leaf` gets a record.  NULL slot: every leaf. */
  gboolean (*handles) (const LfCodec *codec, const LfNode *leaf);

  /* Writes `leaf`'s record to `out`. */
  gboolean (*serialise) (const LfCodec *codec, LfStream *out, const LfPath *path,
                         LfNode *leaf, GError **error);
  /* Reads the record for the leaf `like` and returns the loaded leaf
   * (transfer full). */
  LfNode *(*deserialise) (const LfCodec *codec, LfStream *in, const LfPath *path,
                          LfNode *like, GError **error);

  gconstpointer class_data;   /* free for the codec's author; see lf_registry_register_func */
  guint32 flags;              /* LfCodecFlags */
  guint32 reserved_flags;     /* zero */
  gpointer reserved[5];       /* zero */
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
LF_API const char *lf_codec_options_get_codec_name (LfCodecOptions *options);

/* ---- plugins --------------------------------------------------------------- */

/* Bumped on any incompatible change of LfPluginDesc or LfCodecClass. */
#define LF_PLUGIN_ABI_VERSION 1

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
