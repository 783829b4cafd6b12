/* The manifest's internals are hidden in libleafio (only lf_* is exported),
 * so test-manifest compiles core/spec/skeleton.c in itself. */
#include "skeleton.c"
