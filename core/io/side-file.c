/* Side inputs read whole: manifests, skeletons, rules and spec files
 * (stream.h, lf_read_side_file).  Whatever the path names, reading it
 * never blocks (a FIFO), never runs on forever (/dev/zero) and never
 * allocates more than the cap. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <leafio/leafio.h>
#include "side-file-private.h"

const char *
_lf_file_type_name (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISCHR (mode) || S_ISBLK (mode))
    return "a device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

static char *
too_large (const char *path, gsize max_size, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_TOO_LARGE,
               "%s: larger than %" G_GSIZE_FORMAT " bytes, the most leafio reads of such a file",
               path, max_size);
  return NULL;
}

/* Reads `fd` to its end, refusing more than `max_size` bytes (the file may
 * grow after the fstat). */
static char *
read_all (int fd, const char *path, gsize expected, gsize max_size, gsize *length,
          GError **error)
{
  gsize capacity = MIN (expected, max_size) + 1;
  g_autofree char *buffer = g_try_malloc (capacity + 1);
  if (buffer == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: out of memory for %" G_GSIZE_FORMAT
                   " bytes", path, capacity);
      return NULL;
    }
  gsize done = 0;
  for (;;)
    {
      if (done == capacity)
        {
          if (capacity > max_size)
            return too_large (path, max_size, error);
          gsize grown = MIN (capacity * 2, max_size + 1);
          char *bigger = g_try_realloc (buffer, grown + 1);
          if (bigger == NULL)
            {
              g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: out of memory", path);
              return NULL;
            }
          buffer = bigger;
          capacity = grown;
        }
      ssize_t n = read (fd, buffer + done, capacity - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot read: %s", path,
                       g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      done += (gsize) n;
    }
  if (done > max_size)
    return too_large (path, max_size, error);
  buffer[done] = '\0';
  if (length != NULL)
    *length = done;
  return g_steal_pointer (&buffer);
}

char *
_lf_read_side_file_stat (const char *path, gsize max_size, gsize *length, struct stat *st,
                         gboolean *missing, GError **error)
{
  /* O_NONBLOCK: opening a FIFO waits for a writer otherwise. */
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (missing != NULL)
    *missing = fd < 0 && (errno == ENOENT || errno == ENAMETOOLONG);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (saved_errno));
      return NULL;
    }
  char *contents = NULL;
  if (fstat (fd, st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot look at it: %s", path,
                   g_strerror (saved_errno));
    }
  else if (!S_ISREG (st->st_mode))
    g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: is %s; only a regular file is read here",
                 path, _lf_file_type_name (st->st_mode));
  else if ((guint64) st->st_size > max_size)
    too_large (path, max_size, error);
  else if (fcntl (fd, F_SETFL, 0) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, "%s: cannot read: %s", path,
                   g_strerror (saved_errno));
    }
  else
    contents = read_all (fd, path, (gsize) st->st_size, max_size, length, error);
  close (fd);
  return contents;
}

char *
lf_read_side_file (const char *path, gsize max_size, gsize *length, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  struct stat st;
  return _lf_read_side_file_stat (path, max_size, length, &st, NULL, error);
}
