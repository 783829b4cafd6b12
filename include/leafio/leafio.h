/* leafio: save the leaves of a tree of arrays to a file, load them back.
 *
 * The file format is Equinox's `tree_serialise_leaves`: one record per saved
 * leaf, in tree order, with no header of its own.  With the default `npy`
 * codec each record is exactly what `numpy.save` writes.
 *
 * Include this header only; it pulls in every topic header.
 */
#pragma once

#define LEAFIO_INSIDE
#include <leafio/types.h>
#include <leafio/version.h>
#include <leafio/error.h>
#include <leafio/dtype.h>
#include <leafio/element.h>
#include <leafio/tree.h>
#include <leafio/stream.h>
#include <leafio/npy.h>
#include <leafio/convert.h>
#include <leafio/record.h>
#include <leafio/codec.h>
#include <leafio/registry.h>
#include <leafio/spec.h>
#include <leafio/serialise.h>
#include <leafio/atomic-file.h>
#include <leafio/manifest.h>
#include <leafio/file.h>
#include <leafio/checkpoint.h>
#include <leafio/unstable.h>
#undef LEAFIO_INSIDE
