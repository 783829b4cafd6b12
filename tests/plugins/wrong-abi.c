/* Built for a future plugin ABI: LF_ERROR_PLUGIN_ABI. */
#include "codec-stub.h"

STUB_CODEC (codec, "wrong-abi");
static const LfCodecClass *const codecs[] = { &codec, NULL };
static const LfPluginDesc desc = {
  LF_PLUGIN_ABI_VERSION + 41, sizeof (LfPluginDesc), "wrong-abi", "1.0",
  "a plugin from the future", codecs, NULL, { NULL }
};

LF_PLUGIN_EXPORT const LfPluginDesc *lf_plugin_get_desc (void);

const LfPluginDesc *
lf_plugin_get_desc (void)
{
  return &desc;
}
