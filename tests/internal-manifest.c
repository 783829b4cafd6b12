/* The manifest's internals are hidden in libleafio (only lf_* is exported),
 * so test-manifest compiles core/save/manifest.c in itself. */
#include "manifest.c"
