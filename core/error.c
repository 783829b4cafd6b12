/* The LF_ERROR domain. */
#include "config.h"
#include <leafio/leafio.h>

G_DEFINE_QUARK (lf-error-quark, lf_error)
