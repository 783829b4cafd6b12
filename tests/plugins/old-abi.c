/* Built for plugin ABI 1, before codecs described their records: refused
 * with LF_ERROR_PLUGIN_ABI naming both versions (docs/PLUGINS.md). */
#include "codec-stub.h"

STUB_CODEC (codec, "old-abi");
static const LfCodecClass *const codecs[] = { &codec, NULL };
static const LfPluginDesc desc = {
  1, sizeof (LfPluginDesc), "old-abi", "1.0", "a plugin built for ABI 1", codecs, NULL,
  { NULL }
};

LF_PLUGIN_EXPORT const LfPluginDesc *lf_plugin_get_desc (void);

const LfPluginDesc *
lf_plugin_get_desc (void)
{
  return &desc;
}
