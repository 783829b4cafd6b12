/* The manifest's internals are hidden in libleafio (only lf_* is exported),
 * so test-manifest compiles core/json/json-util.c in itself. */
#include "json-util.c"
