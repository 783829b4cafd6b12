/* Buffers for big reads from files (read-buffer.c). */
#pragma once

#include <leafio/leafio.h>

/* A buffer for `size` bytes of file data that starts at `file_offset`,
 * placed at the file offset's address modulo 4 KiB (rounded down to 64
 * bytes, so every dtype stays aligned): the kernel's copy out of the page
 * cache then runs at full speed, where a destination a little ahead of its
 * source modulo 4 KiB runs at a third of it.  Huge pages are advised, as
 * numpy does.  Its memory may come from the pool of freed buffers, so it
 * holds old bytes: fill all of it.  Returns GBytes over `*data` (transfer
 * full), or NULL when no memory could be mapped. */
G_GNUC_INTERNAL GBytes *_lf_read_buffer_new (gsize size, guint64 file_offset, guint8 **data);
