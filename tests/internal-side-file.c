/* side-file.c is compiled in with manifest.c (internal-manifest.c): the
 * manifest check uses its internal variant. */
#include "side-file.c"
