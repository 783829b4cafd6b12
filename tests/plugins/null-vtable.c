/* A codec without deserialise: LF_ERROR_PLUGIN_INVALID. */
#include "codec-stub.h"

static const LfCodecClass codec = {
  .struct_size = sizeof (LfCodecClass),
  .name = "half-a-codec",
  .description = "writes but cannot read",
  .serialise = stub_serialise,
  .deserialise = NULL,
};
LF_PLUGIN_DEFINE ("null-vtable", "1.0", "a codec missing a slot", &codec)
