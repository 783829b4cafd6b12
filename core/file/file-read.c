/* Reading a record and computing its XXH3-64 at once.
 *
 * Hashing a big record after reading it cost about as much as the read
 * (the kernel's copy out of the page cache and XXH3 run at about the same
 * speed here, 16 GB/s), and hashing each piece right after it landed saved
 * nothing: the hash is bound by its own arithmetic, not by memory.  So a
 * big record is hashed on a second thread that follows the read piece by
 * piece, and the read costs little more than the copy.  When no thread
 * has started on the hash by the time the read is done, the reader hashes
 * the record itself. */
#include "config.h"
#include <xxhash.h>
#include "file-private.h"

/* Records from this size on are hashed beside the read. */
#define HASH_BESIDE_MIN ((gsize) 2 << 20)
/* The pieces the read hands to the hashing thread: small enough that the
 * hash of the last one adds little after the read, big enough that the
 * handing over costs nothing (64 KiB to 2 MiB measured alike). */
#define PIECE ((gsize) 256 * 1024)

/* One record being read and hashed; shared by the reader and the hashing
 * thread, freed by whoever drops the last reference. */
typedef struct {
  gint refs;
  GMutex lock;
  GCond cond;
  const guint8 *data;
  gsize count;
  gsize landed;       /* bytes read so far */
  gboolean stopped;   /* the read failed: no more will land */
  gboolean claimed;   /* someone is hashing (or has hashed) */
  gboolean hashed;
  guint64 hash;
} HashJob;

static void
job_unref (HashJob *job)
{
  if (!g_atomic_int_dec_and_test (&job->refs))
    return;
  g_mutex_clear (&job->lock);
  g_cond_clear (&job->cond);
  g_free (job);
}

static gboolean
job_claim (HashJob *job)
{
  g_mutex_lock (&job->lock);
  gboolean mine = !job->claimed;
  job->claimed = TRUE;
  g_mutex_unlock (&job->lock);
  return mine;
}

/* Hashes the record as it lands; stops early when the read failed. */
static void
job_hash (HashJob *job)
{
  XXH3_state_t *state = XXH3_createState ();
  gboolean whole = state == NULL;   /* no memory for a state: at the end */
  if (state != NULL)
    XXH3_64bits_reset (state);
  gsize done = 0;
  gboolean stopped = FALSE;
  while (done < job->count && !stopped)
    {
      g_mutex_lock (&job->lock);
      while (job->landed == done && !job->stopped)
        g_cond_wait (&job->cond, &job->lock);
      gsize landed = job->landed;
      stopped = job->stopped;
      g_mutex_unlock (&job->lock);
      if (!whole)
        XXH3_64bits_update (state, job->data + done, landed - done);
      done = landed;
    }
  guint64 hash = 0;
  if (!stopped)
    hash = whole ? XXH3_64bits (job->data, job->count) : XXH3_64bits_digest (state);
  if (state != NULL)
    XXH3_freeState (state);
  g_mutex_lock (&job->lock);
  job->hash = hash;
  job->hashed = TRUE;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
}

static void
run_job (gpointer data, G_GNUC_UNUSED gpointer user_data)
{
  HashJob *job = data;
  if (job_claim (job))
    job_hash (job);
  job_unref (job);
}

/* Threads shared by every file's reads; idle ones are kept a while by
 * GLib, so a series of reads does not start a thread each. */
static GThreadPool *
hash_pool (void)
{
  static GThreadPool *pool;
  if (g_once_init_enter (&pool))
    g_once_init_leave (&pool, g_thread_pool_new (run_job, NULL,
                                                 (gint) MAX (g_get_num_processors (), 1),
                                                 FALSE, NULL));
  return pool;
}

static void
job_land (HashJob *job, gsize landed, gboolean stopped)
{
  g_mutex_lock (&job->lock);
  job->landed = landed;
  job->stopped = stopped;
  g_cond_signal (&job->cond);
  g_mutex_unlock (&job->lock);
}

/* Reads with a hashing thread following; the hash once both are done. */
static gboolean
read_hashed_beside (LfFile *file, HashJob *job, guint8 *buffer, guint64 offset,
                    guint64 *hash, GError **error)
{
  gsize done = 0;
  gboolean ok = TRUE;
  while (ok && done < job->count)
    {
      gsize piece = MIN (job->count - done, PIECE);
      ok = _lf_file_read_part (file, buffer, job->count, offset, done, piece, error);
      done += ok ? piece : 0;
      job_land (job, done, !ok);
    }
  if (job_claim (job))
    job_hash (job);   /* no thread got to it: the bytes are all here */
  g_mutex_lock (&job->lock);
  while (!job->hashed)
    g_cond_wait (&job->cond, &job->lock);
  *hash = job->hash;
  g_mutex_unlock (&job->lock);
  return ok;
}

gboolean
_lf_file_read_hashed (LfFile *file, guint8 *buffer, gsize count, guint64 offset,
                      guint64 *hash, GError **error)
{
  if (count < HASH_BESIDE_MIN || g_get_num_processors () < 2)
    {
      if (!_lf_file_read_exact (file, buffer, count, offset, error))
        return FALSE;
      *hash = XXH3_64bits (buffer, count);
      return TRUE;
    }
  HashJob *job = g_new0 (HashJob, 1);
  job->refs = 2;
  g_mutex_init (&job->lock);
  g_cond_init (&job->cond);
  job->data = buffer;
  job->count = count;
  GThreadPool *pool = hash_pool ();
  if (pool == NULL || !g_thread_pool_push (pool, job, NULL))
    job_unref (job);   /* never runs: the reader hashes */
  gboolean ok = read_hashed_beside (file, job, buffer, offset, hash, error);
  job_unref (job);
  return ok;
}

guint64
_lf_file_hash (const guint8 *data, gsize count)
{
  return XXH3_64bits (data, count);
}
