/* Reading a big range and computing its XXH3-64 at once.
 *
 * Hashing a big range after reading it cost about as much as the read
 * (the kernel's copy out of the page cache and XXH3 run at about the same
 * speed here, 16 GB/s), and hashing each piece right after it landed, still
 * in cache, saved nothing: the hash is bound by its own arithmetic.  So a
 * big range is read in pieces by the caller and by a helper thread, and
 * the caller hashes the pieces in order as they land: a 7.1 MB record
 * then takes about what a pread of it takes.  The caller never waits for
 * the helper to start: pieces go to whoever asks first, so when no other
 * processor is free the work is done in turns, at the speed of reading
 * and then hashing. */
#include "config.h"
#include <string.h>
#include "helper-threads-private.h"
#include "read-buffer-private.h"
#include "shared-read-private.h"

/* Small enough that the hash of the last piece adds little after the
 * read, big enough that the handing over costs nothing (64 KiB to 2 MiB
 * measured alike). */
#define PIECE ((gsize) 256 * 1024)

/* One range being read by the caller and a helper. */
typedef struct {
  GMutex lock;
  GCond cond;
  LfPieceReadFunc read;
  gpointer read_data;
  guint8 *buffer;
  gsize count;
  guint64 offset;
  gboolean fresh;
  guint n_pieces;
  guint next;            /* the next piece nobody reads yet */
  guint8 *landed;        /* per piece: read */
  guint helper_reading;  /* pieces the helper is reading */
  gboolean failed;       /* a read failed: nobody starts another */
} SharedRead;

static gboolean
read_piece (SharedRead *job, guint piece)
{
  gsize from = (gsize) piece * PIECE;
  gsize length = MIN (PIECE, job->count - from);
  if (job->fresh)
    _lf_read_buffer_populate (job->buffer + from, length);
  return job->read (job->read_data, job->buffer + from, length, job->offset + from);
}

/* The next piece to read, or n_pieces when all are taken (or a read
 * failed).  Called locked. */
static guint
take_piece (SharedRead *job)
{
  return job->failed || job->next >= job->n_pieces ? job->n_pieces : job->next++;
}

static void
land_piece (SharedRead *job, guint piece, gboolean ok)
{
  if (ok)
    job->landed[piece] = TRUE;
  else
    job->failed = TRUE;
  g_cond_broadcast (&job->cond);
}

static void
help_read (gpointer data, G_GNUC_UNUSED gpointer user_data)
{
  SharedRead *job = data;
  g_mutex_lock (&job->lock);
  for (guint piece; (piece = take_piece (job)) < job->n_pieces;)
    {
      job->helper_reading++;
      g_mutex_unlock (&job->lock);
      gboolean ok = read_piece (job, piece);
      g_mutex_lock (&job->lock);
      job->helper_reading--;
      land_piece (job, piece, ok);
    }
  g_mutex_unlock (&job->lock);
}

/* Hashes the pieces in order, reading the next untaken one whenever the
 * one due has not landed.  FALSE when a read failed. */
static gboolean
read_and_hash (SharedRead *job, XXH3_state_t *state)
{
  guint hashed = 0;
  g_mutex_lock (&job->lock);
  while (hashed < job->n_pieces && !job->failed)
    {
      if (job->landed[hashed])
        {
          g_mutex_unlock (&job->lock);
          gsize from = (gsize) hashed * PIECE;
          XXH3_64bits_update (state, job->buffer + from, MIN (PIECE, job->count - from));
          hashed++;
          g_mutex_lock (&job->lock);
          continue;
        }
      guint piece = take_piece (job);
      if (piece == job->n_pieces)
        {
          g_cond_wait (&job->cond, &job->lock);   /* the helper has it */
          continue;
        }
      g_mutex_unlock (&job->lock);
      gboolean ok = read_piece (job, piece);
      g_mutex_lock (&job->lock);
      land_piece (job, piece, ok);
    }
  /* The buffer is the caller's again once the helper's reads are over. */
  job->failed = TRUE;
  while (job->helper_reading > 0)
    g_cond_wait (&job->cond, &job->lock);
  g_mutex_unlock (&job->lock);
  return hashed == job->n_pieces;
}

gboolean
_lf_shared_read_hashed (LfPieceReadFunc read, gpointer data, guint8 *buffer, gsize count,
                        guint64 offset, gboolean fresh, XXH3_state_t *state)
{
  g_return_val_if_fail (count / PIECE < G_MAXUINT, FALSE);
  SharedRead job = {
    .read = read,
    .read_data = data,
    .buffer = buffer,
    .count = count,
    .offset = offset,
    .fresh = fresh,
    .n_pieces = (guint) ((count + PIECE - 1) / PIECE),
  };
  g_mutex_init (&job.lock);
  g_cond_init (&job.cond);
  job.landed = g_new0 (guint8, MAX (job.n_pieces, 1));
  LfHelperTask *helper = _lf_helper_start (help_read, &job);
  gboolean ok = read_and_hash (&job, state);
  _lf_helper_finish (helper);   /* done with `job` once this returns */
  g_mutex_clear (&job.lock);
  g_cond_clear (&job.cond);
  g_free (job.landed);
  return ok;
}
