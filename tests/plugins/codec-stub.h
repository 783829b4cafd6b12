/* A do-nothing codec shared by the broken test plugins: each plugin breaks
 * one rule, the rest of it is valid. */
#pragma once

#include <leafio/leafio.h>

G_GNUC_UNUSED static gboolean
stub_serialise (const LfCodec *codec, LfStream *out, const LfPath *path, LfNode *leaf,
                GError **error)
{
  return TRUE;
}

G_GNUC_UNUSED static LfNode *
stub_deserialise (const LfCodec *codec, LfStream *in, const LfPath *path, LfNode *like,
                  GError **error)
{
  return lf_node_ref (like);
}

#define STUB_CODEC(var, name_)                                                 \
  static const LfCodecClass var = {                                            \
    .struct_size = sizeof (LfCodecClass),                                      \
    .name = name_,                                                             \
    .description = "a test codec",                                             \
    .serialise = stub_serialise,                                               \
    .deserialise = stub_deserialise,                                           \
  }
