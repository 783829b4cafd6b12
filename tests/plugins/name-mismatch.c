/* Calls itself something its file is not named: LF_ERROR_PLUGIN_INVALID. */
#include "codec-stub.h"

STUB_CODEC (codec, "impostor-codec");
LF_PLUGIN_DEFINE ("impostor", "1.0", "a plugin under another name", &codec)
