/* The XXH3-64 of a byte range of a file, read a piece at a time.
 *
 * Not mapped: a mapping counts every page of the file in the process's
 * resident memory, and a file cut short while it is mapped ends the
 * process with SIGBUS instead of an error.  Reading costs a copy out of
 * the page cache, slower here than the hash itself, so the pieces go
 * through a small ring: a helper thread and the caller both read the next
 * free piece, and the caller hashes the pieces in order as they land.
 * With no helper, the caller reads and hashes in turns. */
#include "config.h"
#include <errno.h>
#include <unistd.h>
#include <xxhash.h>
#include "helper-threads-private.h"
#include "range-hash-private.h"

#define PIECE ((gsize) 256 << 10)
#define RING 8

typedef struct {
  GMutex lock;
  GCond cond;
  int fd;
  guint64 offset, size;
  guint64 n_pieces;
  guint64 next;          /* the next piece nobody reads yet */
  guint64 hashed;        /* pieces hashed; slots of pieces below it are free */
  guint64 landed[RING];  /* per slot: 1 + the piece read into it, 0: none */
  gboolean failed;       /* a read failed: nobody starts another */
  int error_number;
  guint64 failed_at;
  guint8 *slots;
} Ring;

static gsize
piece_length (const Ring *ring, guint64 piece)
{
  return (gsize) MIN (PIECE, ring->size - piece * PIECE);
}

/* Reads piece `piece` into its slot; FALSE with the failure noted. */
static gboolean
read_piece (Ring *ring, guint64 piece)
{
  guint8 *slot = ring->slots + (piece % RING) * PIECE;
  gsize want = piece_length (ring, piece), done = 0;
  guint64 at = ring->offset + piece * PIECE;
  while (done < want)
    {
      ssize_t n = pread (ring->fd, slot + done, want - done, (off_t) (at + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n < 0 ? errno : 0;
          g_mutex_lock (&ring->lock);
          if (!ring->failed)
            {
              ring->failed = TRUE;
              ring->error_number = saved;
              ring->failed_at = at + done;
            }
          g_cond_broadcast (&ring->cond);
          g_mutex_unlock (&ring->lock);
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

/* The next piece to read when its slot is free, or G_MAXUINT64.  Locked. */
static guint64
take_piece (Ring *ring)
{
  if (ring->failed || ring->next >= ring->n_pieces || ring->next >= ring->hashed + RING)
    return G_MAXUINT64;
  return ring->next++;
}

static void
land_piece (Ring *ring, guint64 piece)
{
  g_mutex_lock (&ring->lock);
  ring->landed[piece % RING] = piece + 1;
  g_cond_broadcast (&ring->cond);
  g_mutex_unlock (&ring->lock);
}

/* The helper: reads pieces while there are free slots, waits for slots
 * while there are pieces, until every piece is taken or a read failed. */
static void
help_read (gpointer data, gpointer unused)
{
  Ring *ring = data;
  g_mutex_lock (&ring->lock);
  while (!ring->failed && ring->next < ring->n_pieces)
    {
      guint64 piece = take_piece (ring);
      if (piece == G_MAXUINT64)
        {
          g_cond_wait (&ring->cond, &ring->lock);
          continue;
        }
      g_mutex_unlock (&ring->lock);
      if (read_piece (ring, piece))
        land_piece (ring, piece);
      g_mutex_lock (&ring->lock);
    }
  g_mutex_unlock (&ring->lock);
}

/* The caller: hashes the pieces in order, reading the next free one
 * itself whenever the one due has not landed. */
static gboolean
hash_in_order (Ring *ring, XXH3_state_t *state)
{
  g_mutex_lock (&ring->lock);
  while (ring->hashed < ring->n_pieces && !ring->failed)
    {
      guint64 due = ring->hashed;
      if (ring->landed[due % RING] == due + 1)
        {
          g_mutex_unlock (&ring->lock);
          XXH3_64bits_update (state, ring->slots + (due % RING) * PIECE,
                              piece_length (ring, due));
          g_mutex_lock (&ring->lock);
          ring->hashed++;
          g_cond_broadcast (&ring->cond);   /* a slot is free */
          continue;
        }
      guint64 piece = take_piece (ring);
      if (piece == G_MAXUINT64)
        {
          g_cond_wait (&ring->cond, &ring->lock);   /* the helper has it */
          continue;
        }
      g_mutex_unlock (&ring->lock);
      if (read_piece (ring, piece))
        land_piece (ring, piece);
      g_mutex_lock (&ring->lock);
    }
  gboolean ok = !ring->failed;
  ring->failed = TRUE;     /* stops the helper */
  g_cond_broadcast (&ring->cond);
  g_mutex_unlock (&ring->lock);
  return ok;
}

gboolean
_lf_range_hash (int fd, guint64 offset, guint64 size, guint64 *hash, int *error_number,
                guint64 *failed_at)
{
  XXH3_state_t *state = XXH3_createState ();
  guint8 *slots = g_try_malloc (RING * PIECE);
  if (state == NULL || slots == NULL || XXH3_64bits_reset (state) != XXH_OK)
    {
      XXH3_freeState (state);
      g_free (slots);
      *error_number = ENOMEM;
      *failed_at = offset;
      return FALSE;
    }
  Ring ring = { .fd = fd, .offset = offset, .size = size,
                .n_pieces = (size + PIECE - 1) / PIECE, .slots = slots };
  g_mutex_init (&ring.lock);
  g_cond_init (&ring.cond);
  LfHelperTask *helper = ring.n_pieces > 1 ? _lf_helper_start (help_read, &ring) : NULL;
  gboolean ok = hash_in_order (&ring, state);
  if (helper != NULL)
    _lf_helper_finish (helper);   /* done with `ring` once this returns */
  g_mutex_clear (&ring.lock);
  g_cond_clear (&ring.cond);
  g_free (slots);
  *hash = XXH3_64bits_digest (state);
  XXH3_freeState (state);
  if (!ok)
    {
      *error_number = ring.error_number;
      *failed_at = ring.failed_at;
    }
  return ok;
}
