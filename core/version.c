/* Run-time version. */
#include "config.h"
#include <leafio/leafio.h>

const char *
lf_get_version (void)
{
  return LF_VERSION_STRING;
}
