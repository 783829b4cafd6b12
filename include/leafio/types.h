/* leafio: shared declarations of every public header.
 *
 * Forward declarations of the opaque types, the export macro and the
 * begin/end declaration guards.  Include <leafio/leafio.h>, not this file.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

#if defined(__GNUC__)
#define LF_API __attribute__ ((visibility ("default"))) extern
#else
#define LF_API extern
#endif

/* Largest number of dimensions an array may have (numpy 2's limit). */
#define LF_MAX_NDIM 64

typedef struct _LfNode LfNode;          /* tree.h: immutable, ref-counted tree node */
typedef struct _LfPath LfPath;          /* tree.h: a leaf's key path */
typedef struct _LfStream LfStream;      /* stream.h: byte source or sink */
typedef struct _LfCodec LfCodec;        /* codec.h: a configured codec instance */
typedef struct _LfCodecClass LfCodecClass; /* codec.h: a codec's vtable */
typedef struct _LfCodecOptions LfCodecOptions; /* codec.h: parsed `name(k=v)` options */
typedef struct _LfRegistry LfRegistry;  /* registry.h: codec name -> class */
typedef struct _LfSpec LfSpec;          /* spec.h: which codec handles each leaf */

G_END_DECLS
