/* An init function that refuses the load: its own error comes back. */
#include "codec-stub.h"

static gboolean
refuse (GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED, "this plugin needs a GPU");
  return FALSE;
}

STUB_CODEC (codec, "never-registered");
LF_PLUGIN_DEFINE_FULL ("failing-init", "1.0", "refuses to load", refuse, &codec)
