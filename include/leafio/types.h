/**
 * SECTION:types
 * @title: Common types
 * @short_description: the opaque types every header shares
 *
 * Forward declarations of the opaque types, the export macro and the
 * largest number of dimensions.  Each type is described with its functions
 * in its own section.  Include `<leafio/leafio.h>`, not this file.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * LF_API:
 *
 * Marks a declaration as part of libleafio's exported interface.  Symbols
 * without it are private to the library, whatever their name.
 *
 * Since: 0.1
 */
#if defined(__GNUC__)
#define LF_API __attribute__ ((visibility ("default"))) extern
#else
#define LF_API extern
#endif

/**
 * LF_MAX_NDIM:
 *
 * The largest number of dimensions an array may have (numpy 2's limit).
 *
 * Since: 0.1
 */
#define LF_MAX_NDIM 64

/**
 * LfNode:
 *
 * An immutable, reference-counted node of a tree: a container or a leaf
 * (see the Trees section).
 *
 * Since: 0.1
 */
typedef struct _LfNode LfNode;
/**
 * LfPath:
 *
 * A leaf's key path: the keys from the root, as JAX's keystr writes them.
 *
 * Since: 0.1
 */
typedef struct _LfPath LfPath;
/**
 * LfStream:
 *
 * A byte source or sink that records are read from and written to.
 *
 * Since: 0.1
 */
typedef struct _LfStream LfStream;
/**
 * LfCodec:
 *
 * A configured codec: a #LfCodecClass with its parsed options.  Immutable
 * and reference-counted.
 *
 * Since: 0.1
 */
typedef struct _LfCodec LfCodec;
/**
 * LfCodecOptions:
 *
 * The parsed options of a codec reference, `name(key=value, ...)`, as a
 * codec's `parse_options` reads them.
 *
 * Since: 0.1
 */
typedef struct _LfCodecOptions LfCodecOptions;
/**
 * LfRegistry:
 *
 * Maps codec names to codec classes.  Reference-counted.
 *
 * Since: 0.1
 */
typedef struct _LfRegistry LfRegistry;
/**
 * LfSpec:
 *
 * Which codec handles each leaf of a tree.  Immutable and
 * reference-counted.
 *
 * Since: 0.1
 */
typedef struct _LfSpec LfSpec;

G_END_DECLS
