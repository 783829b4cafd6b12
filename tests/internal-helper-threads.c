/* helper-threads.c is compiled in with range-hash.c (internal-range-hash.c),
 * whose read-ahead runs on a helper. */
#include "helper-threads.c"
