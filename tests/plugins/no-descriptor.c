/* A shared object without lf_plugin_get_desc: LF_ERROR_PLUGIN_LOAD. */
#include <glib.h>

__attribute__ ((visibility ("default"))) int lf_test_not_a_plugin (void);

int
lf_test_not_a_plugin (void)
{
  return 42;
}
