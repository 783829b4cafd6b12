/* The ABI of the public headers, pinned.
 *
 * Plugins built against an older leafio of the same LF_PLUGIN_ABI_VERSION
 * are loaded as they are: their LfPluginDesc and LfCodecClass must keep
 * every size, offset and slot signature, and the enums their values.  Any
 * change below breaks that and fails the build of this test; a deliberate
 * one bumps LF_PLUGIN_ABI_VERSION (and the library's soname for the
 * functions) and updates these numbers.  The sizes are those of x86-64
 * Linux (LP64); the signatures and enum values hold everywhere.
 *
 * abi/check.sh compares the whole library against a baseline with
 * abidiff; this test catches the same breaks at compile time, before
 * anyone runs it.
 *
 * Built without LEAFIO_UNSTABLE_API, as a program using only the stable
 * API is: the unstable tier (<leafio/unstable.h>) has no promise, and it
 * must stay out of sight. */
#include <stddef.h>
#include "test-common.h"

#if defined(LF_TEST_ABI_MPI)
#include <leafio/leafio-mpi.h>
#endif

/* ---- the unstable tier is hidden ----------------------------------------------- */

/* Each of these clashes with its declaration in <leafio/unstable.h>, so the
 * file compiles only while that header declares nothing here. */
typedef struct {
  int unrelated;
} LfNpyHeader;
enum { LF_CONVERT_IMPL_AUTO = 7 };
static int lf_read_buffer_new = 1;
static int lf_stream_expect = 2;

/* ---- sizes and offsets (x86-64) ------------------------------------------------- */

#define FIELD_TYPE(type, field) __typeof__ (((type *) 0)->field)
#define HAS_TYPE(expr_type, type) __builtin_types_compatible_p (expr_type, type)

#if defined(__x86_64__) && defined(__LP64__)
G_STATIC_ASSERT (sizeof (LfCodecCapabilities) == 48);
G_STATIC_ASSERT (offsetof (LfCodecCapabilities, flags) == 0);
G_STATIC_ASSERT (offsetof (LfCodecCapabilities, data_alignment) == 4);
G_STATIC_ASSERT (offsetof (LfCodecCapabilities, inner) == 8);
G_STATIC_ASSERT (offsetof (LfCodecCapabilities, reserved) == 16);

G_STATIC_ASSERT (sizeof (LfCodecClass) == 152);
G_STATIC_ASSERT (offsetof (LfCodecClass, struct_size) == 0);
G_STATIC_ASSERT (offsetof (LfCodecClass, flags) == 4);
G_STATIC_ASSERT (offsetof (LfCodecClass, name) == 8);
G_STATIC_ASSERT (offsetof (LfCodecClass, description) == 16);
G_STATIC_ASSERT (offsetof (LfCodecClass, parse_options) == 24);
G_STATIC_ASSERT (offsetof (LfCodecClass, free_options) == 32);
G_STATIC_ASSERT (offsetof (LfCodecClass, handles) == 40);
G_STATIC_ASSERT (offsetof (LfCodecClass, serialise) == 48);
G_STATIC_ASSERT (offsetof (LfCodecClass, deserialise) == 56);
G_STATIC_ASSERT (offsetof (LfCodecClass, describe) == 64);
G_STATIC_ASSERT (offsetof (LfCodecClass, get_capabilities) == 72);
G_STATIC_ASSERT (offsetof (LfCodecClass, class_data) == 80);
G_STATIC_ASSERT (offsetof (LfCodecClass, reserved) == 88);

G_STATIC_ASSERT (sizeof (LfPluginDesc) == 80);
G_STATIC_ASSERT (offsetof (LfPluginDesc, abi_version) == 0);
G_STATIC_ASSERT (offsetof (LfPluginDesc, struct_size) == 4);
G_STATIC_ASSERT (offsetof (LfPluginDesc, name) == 8);
G_STATIC_ASSERT (offsetof (LfPluginDesc, version) == 16);
G_STATIC_ASSERT (offsetof (LfPluginDesc, description) == 24);
G_STATIC_ASSERT (offsetof (LfPluginDesc, codecs) == 32);
G_STATIC_ASSERT (offsetof (LfPluginDesc, init) == 40);
G_STATIC_ASSERT (offsetof (LfPluginDesc, reserved) == 48);

G_STATIC_ASSERT (sizeof (LfManifestLeaf) == 48);
G_STATIC_ASSERT (offsetof (LfManifestLeaf, path) == 0);
G_STATIC_ASSERT (offsetof (LfManifestLeaf, leaf) == 8);
G_STATIC_ASSERT (offsetof (LfManifestLeaf, codec) == 16);
G_STATIC_ASSERT (offsetof (LfManifestLeaf, has_record) == 24);
G_STATIC_ASSERT (offsetof (LfManifestLeaf, offset) == 32);
G_STATIC_ASSERT (offsetof (LfManifestLeaf, size) == 40);

G_STATIC_ASSERT (sizeof (LfElement) == 40);
G_STATIC_ASSERT (offsetof (LfElement, kind) == 0);
G_STATIC_ASSERT (offsetof (LfElement, i) == 8);
G_STATIC_ASSERT (offsetof (LfElement, u) == 16);
G_STATIC_ASSERT (offsetof (LfElement, re) == 24);
G_STATIC_ASSERT (offsetof (LfElement, im) == 32);

#if defined(LF_TEST_ABI_MPI)
G_STATIC_ASSERT (sizeof (LfShard) == 16);
G_STATIC_ASSERT (offsetof (LfShard, global_rows) == 0);
G_STATIC_ASSERT (offsetof (LfShard, row_offset) == 8);
#endif

/* Enums are ints: a value past G_MAXINT would widen them. */
G_STATIC_ASSERT (sizeof (LfDType) == 4);
G_STATIC_ASSERT (sizeof (LfNodeKind) == 4);
G_STATIC_ASSERT (sizeof (LfError) == 4);
G_STATIC_ASSERT (sizeof (LfCodecFlags) == 4);
G_STATIC_ASSERT (sizeof (LfElementKind) == 4);
G_STATIC_ASSERT (sizeof (LfElementLoss) == 4);
#endif

/* ---- slot and callback signatures ----------------------------------------------- */

G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecCapabilities, flags), guint32));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecCapabilities, data_alignment), guint32));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecCapabilities, inner), const LfCodec *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecCapabilities, reserved), gpointer[4]));

G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, struct_size), guint32));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, flags), guint32));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, name), const char *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, description), const char *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, parse_options),
                           gpointer (*) (LfCodecOptions *, GError **)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, free_options), void (*) (gpointer)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, handles),
                           gboolean (*) (const LfCodec *, const LfNode *)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, serialise),
                           gboolean (*) (const LfCodec *, LfStream *, const LfPath *,
                                         LfNode *, GError **)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, deserialise),
                           LfNode *(*) (const LfCodec *, LfStream *, const LfPath *,
                                        LfNode *, GError **)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, describe),
                           gboolean (*) (const LfCodec *, LfStream *, const LfNode *,
                                         LfRecordInfo *, GError **)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, get_capabilities),
                           void (*) (const LfCodec *, LfCodecCapabilities *)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, class_data), gconstpointer));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfCodecClass, reserved), gpointer[8]));

G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, abi_version), guint32));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, struct_size), guint32));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, name), const char *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, version), const char *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, description), const char *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, codecs), const LfCodecClass *const *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, init), gboolean (*) (GError **)));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfPluginDesc, reserved), gpointer[4]));

G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfManifestLeaf, path), const char *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfManifestLeaf, leaf), LfNode *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfManifestLeaf, codec), LfCodec *));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfManifestLeaf, has_record), gboolean));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfManifestLeaf, offset), guint64));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfManifestLeaf, size), guint64));

G_STATIC_ASSERT (HAS_TYPE (LfReadFunc, gssize (*) (gpointer, void *, gsize, GError **)));
G_STATIC_ASSERT (HAS_TYPE (LfWriteFunc,
                           gboolean (*) (gpointer, const void *, gsize, GError **)));
G_STATIC_ASSERT (HAS_TYPE (LfIsLeafFunc, gboolean (*) (const LfNode *, gpointer)));
G_STATIC_ASSERT (HAS_TYPE (LfLeafFunc, gboolean (*) (const LfPath *, LfNode *, gpointer)));
G_STATIC_ASSERT (HAS_TYPE (LfSerialiseFunc, gboolean (*) (LfStream *, const LfPath *, LfNode *,
                                                          gpointer, GError **)));
G_STATIC_ASSERT (HAS_TYPE (LfDeserialiseFunc, LfNode *(*) (LfStream *, const LfPath *, LfNode *,
                                                           gpointer, GError **)));
G_STATIC_ASSERT (HAS_TYPE (LfSpecLeafFunc, gboolean (*) (const LfPath *, LfNode *, LfCodec *,
                                                         gpointer, GError **)));
#if defined(LF_TEST_ABI_MPI)
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfShard, global_rows), guint64));
G_STATIC_ASSERT (HAS_TYPE (FIELD_TYPE (LfShard, row_offset), guint64));
G_STATIC_ASSERT (HAS_TYPE (LfMpiOwnerFunc,
                           int (*) (const LfPath *, LfNode *, int, gpointer)));
#endif

/* ---- enum values and constants ---------------------------------------------------- */

G_STATIC_ASSERT (LF_PLUGIN_ABI_VERSION == 2);
G_STATIC_ASSERT (LF_MAX_NDIM == 64);
G_STATIC_ASSERT (LF_NPY_MAGIC_LEN == 6);
G_STATIC_ASSERT (LF_NPY_HEADER_MAX == 4096);
G_STATIC_ASSERT (LF_NPY_MAX_HEADER_TEXT == 10000);
G_STATIC_ASSERT (LF_STREAM_PEEK_MAX == 262144);
G_STATIC_ASSERT (LF_RECORD_SIZE_UNKNOWN == G_MAXUINT64);

G_STATIC_ASSERT (LF_DTYPE_INVALID == 0 && LF_DTYPE_BOOL == 1 && LF_DTYPE_INT8 == 2
                 && LF_DTYPE_INT16 == 3 && LF_DTYPE_INT32 == 4 && LF_DTYPE_INT64 == 5
                 && LF_DTYPE_UINT8 == 6 && LF_DTYPE_UINT16 == 7 && LF_DTYPE_UINT32 == 8
                 && LF_DTYPE_UINT64 == 9 && LF_DTYPE_FLOAT16 == 10 && LF_DTYPE_BFLOAT16 == 11
                 && LF_DTYPE_FLOAT32 == 12 && LF_DTYPE_FLOAT64 == 13
                 && LF_DTYPE_COMPLEX64 == 14 && LF_DTYPE_COMPLEX128 == 15);
G_STATIC_ASSERT (LF_NODE_TUPLE == 0 && LF_NODE_LIST == 1 && LF_NODE_DICT == 2
                 && LF_NODE_STRUCT == 3 && LF_NODE_NONE == 4 && LF_NODE_ARRAY == 5
                 && LF_NODE_SCALAR == 6 && LF_NODE_OPAQUE == 7);
G_STATIC_ASSERT (LF_KEY_INDEX == 0 && LF_KEY_DICT == 1 && LF_KEY_FIELD == 2);
G_STATIC_ASSERT (LF_ERROR_FAILED == 0 && LF_ERROR_IO == 1 && LF_ERROR_TRUNCATED == 2
                 && LF_ERROR_CORRUPT == 3 && LF_ERROR_UNSUPPORTED == 4
                 && LF_ERROR_MISMATCH == 5 && LF_ERROR_TRAILING_DATA == 6
                 && LF_ERROR_SPEC == 7 && LF_ERROR_UNKNOWN_CODEC == 8
                 && LF_ERROR_OPTIONS == 9 && LF_ERROR_PLUGIN_LOAD == 10
                 && LF_ERROR_PLUGIN_ABI == 11 && LF_ERROR_PLUGIN_INVALID == 12
                 && LF_ERROR_DUPLICATE_NAME == 13 && LF_ERROR_PARSE == 14
                 && LF_ERROR_CHECKSUM == 15 && LF_ERROR_OVERFLOW == 16
                 && LF_ERROR_NOT_FOUND == 17 && LF_ERROR_TOO_LARGE == 18);
G_STATIC_ASSERT (LF_CODEC_PARALLEL_SMALL_LEAVES == 1 && LF_CODEC_ELEMENTWISE == 2
                 && LF_CODEC_ROW_RANGES == 4 && LF_CODEC_RAW_DATA == 8
                 && LF_CODEC_OFFSET_DEPENDENT == 16);
G_STATIC_ASSERT (LF_SAVE_DEFAULT == 0 && LF_SAVE_MANIFEST == 1 && LF_SAVE_NO_SYNC == 2);
G_STATIC_ASSERT (LF_LOAD_DEFAULT == 0 && LF_LOAD_MMAP == 1 && LF_LOAD_IGNORE_MANIFEST == 2);
G_STATIC_ASSERT (LF_CAST_SAFE == 0 && LF_CAST_EXACT == 1 && LF_CAST_LOSSY == 2);
G_STATIC_ASSERT (LF_ELEMENT_SIGNED == 0 && LF_ELEMENT_UNSIGNED == 1 && LF_ELEMENT_FLOAT == 2
                 && LF_ELEMENT_COMPLEX == 3);
G_STATIC_ASSERT (LF_ELEMENT_EXACT == 0 && LF_ELEMENT_ROUNDED == 1 && LF_ELEMENT_OUT_OF_RANGE == 2
                 && LF_ELEMENT_IMAGINARY_DROPPED == 4);

/* ---- what the macros expand to, at run time ------------------------------------------ */

static const LfCodecClass abi_codec = {
  .struct_size = sizeof (LfCodecClass),
  .name = "abi-test",
};

LF_PLUGIN_DEFINE ("abi-test", "1.0", "pins the descriptor the macro writes", &abi_codec)

START_TEST (test_plugin_descriptor)
{
  const LfPluginDesc *desc = lf_plugin_get_desc ();
  ck_assert_uint_eq (desc->abi_version, LF_PLUGIN_ABI_VERSION);
  ck_assert_uint_eq (desc->struct_size, sizeof (LfPluginDesc));
  ck_assert_str_eq (desc->name, "abi-test");
  ck_assert_str_eq (desc->version, "1.0");
  ck_assert_ptr_eq (desc->codecs[0], &abi_codec);
  ck_assert_ptr_null (desc->codecs[1]);
  ck_assert_ptr_null (desc->init);
  for (guint i = 0; i < G_N_ELEMENTS (desc->reserved); i++)
    ck_assert_ptr_null (desc->reserved[i]);
  ck_assert_str_eq (LF_PLUGIN_SYMBOL, "lf_plugin_get_desc");
}
END_TEST

START_TEST (test_constants)
{
  ck_assert_str_eq (LF_CODEC_DEFAULT, "npy");
  ck_assert_int_eq (memcmp (LF_NPY_MAGIC, "\x93NUMPY", LF_NPY_MAGIC_LEN), 0);
  /* The library a program runs with is the one its headers describe. */
  ck_assert_str_eq (lf_get_version (), LF_VERSION_STRING);
  ck_assert (LF_CHECK_VERSION (LF_MAJOR_VERSION, LF_MINOR_VERSION, LF_MICRO_VERSION));
  ck_assert (!LF_CHECK_VERSION (LF_MAJOR_VERSION + 1, 0, 0));
  /* The names this file reuses are its own: nothing in the headers took
   * them. */
  LfNpyHeader mine = { .unrelated = LF_CONVERT_IMPL_AUTO };
  ck_assert_int_eq (mine.unrelated + lf_read_buffer_new + lf_stream_expect, 10);
}
END_TEST

Suite *
lf_test_suite (void)
{
  Suite *suite = suite_create ("abi");
  TCase *tc = tcase_create ("abi");
  tcase_add_test (tc, test_plugin_descriptor);
  tcase_add_test (tc, test_constants);
  suite_add_tcase (suite, tc);
  return suite;
}
