/* Reading a record and computing its XXH3-64 at once: big records
 * through shared-read.c (a helper thread reads beside the caller, which
 * hashes the pieces in order as they land), so that reading a 7.1 MB
 * record takes about what a pread of it takes. */
#include "config.h"
#include <xxhash.h>
#include "file-private.h"
#include "helper-threads-private.h"
#include "read-buffer-private.h"
#include "shared-read-private.h"

static gboolean
read_file_piece (gpointer data, guint8 *buffer, gsize length, guint64 offset)
{
  return _lf_file_read_exact (data, buffer, length, offset, NULL);
}

gboolean
_lf_file_read_hashed (LfFile *file, guint8 *buffer, gsize count, guint64 offset,
                      gboolean fresh, guint64 *hash, GError **error)
{
  gboolean shared = count >= LF_SHARED_READ_MIN && _lf_helpers_available ();
  XXH3_state_t *state = shared ? XXH3_createState () : NULL;
  if (state != NULL)
    {
      XXH3_64bits_reset (state);
      gboolean ok = _lf_shared_read_hashed (read_file_piece, file, buffer, count, offset,
                                            fresh, state);
      *hash = XXH3_64bits_digest (state);
      XXH3_freeState (state);
      if (ok)
        return TRUE;
      /* A piece could not be read: read it all again for the error that
       * names the whole record (the file changed if this succeeds). */
    }
  else if (fresh)
    _lf_read_buffer_populate (buffer, count);
  if (!_lf_file_read_exact (file, buffer, count, offset, error))
    return FALSE;
  *hash = XXH3_64bits (buffer, count);
  return TRUE;
}

guint64
_lf_file_hash (const guint8 *data, gsize count)
{
  return XXH3_64bits (data, count);
}
