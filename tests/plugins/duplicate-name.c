/* Offers a new codec and one called "npy", which the registry already has:
 * LF_ERROR_DUPLICATE_NAME, and the new one must not be registered either. */
#include "codec-stub.h"

STUB_CODEC (fresh, "fresh-codec");
STUB_CODEC (codec, "npy");
LF_PLUGIN_DEFINE ("duplicate-name", "1.0", "a second npy", &fresh, &codec)
