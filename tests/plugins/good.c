/* A valid plugin, so the suite can see a load succeed next to the broken
 * ones and that a failed load registered nothing. */
#include "codec-stub.h"

STUB_CODEC (codec_a, "good-a");
STUB_CODEC (codec_b, "good-b");
LF_PLUGIN_DEFINE ("good", "1.0", "two codecs", &codec_a, &codec_b)
