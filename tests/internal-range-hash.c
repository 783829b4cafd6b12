/* range-hash.c is compiled in with manifest.c (internal-manifest.c): the
 * manifest check and the read-back of records hash through it. */
#include "range-hash.c"
