"""Replacing a file whole, as the C library's saves do: the new bytes go to
a temporary file beside the destination, renamed over it when complete, so
a reader sees the old file or the new one and a failed save keeps the old.

Destinations follow the C library's rules: a new name is created with mode
0666 less the umask; an existing regular file keeps its mode; a symbolic
link to a regular file replaces that file and keeps the link (a save through
``latest.eqx -> step_100.eqx`` writes step_100.eqx); anything else (a
directory, a dangling link) is refused.
"""

import fcntl
import os
import secrets
import stat

from .errors import LeafioError

__all__ = ["destination", "name_max", "temporary_beside", "create_new", "lock_directory",
           "file_type_name"]


def file_type_name(mode):
    """What a path of mode ``mode`` is, as the C library names it in messages."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def destination(path):
    """(the file a save of ``path`` replaces, the mode it keeps or None for
    a new file)."""
    try:
        st = os.lstat(path)
    except OSError:
        return path, None       # a new file (creating the temporary says what is wrong)
    if stat.S_ISREG(st.st_mode):
        return path, stat.S_IMODE(st.st_mode)
    if not stat.S_ISLNK(st.st_mode):
        raise LeafioError(f"{path}: is {file_type_name(st.st_mode)}; a save replaces only regular "
                          f"files")
    resolved = os.path.realpath(path)
    try:
        st = os.stat(resolved)
    except FileNotFoundError:
        raise LeafioError(f"{path}: is a symbolic link to {os.readlink(path)}, which does not "
                          f"exist; a save follows links only to existing regular files") from None
    except OSError as e:
        raise LeafioError(f"{path}: cannot look at the file its link names: "
                          f"{e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise LeafioError(f"{path}: is a symbolic link to {resolved}, which is "
                          f"{file_type_name(st.st_mode)}; a save follows links only to "
                          f"regular files")
    return resolved, stat.S_IMODE(st.st_mode)


def name_max(directory):
    """The longest file name ``directory`` takes, in bytes."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def temporary_beside(path):
    """A new temporary file's name in ``path``'s directory, ``path``'s name
    cut so that the whole fits the filesystem's limit on names."""
    directory, name = os.path.split(os.path.abspath(path))
    suffix = f".{secrets.token_hex(6)}.tmp"
    room = max(1, name_max(directory) - len(suffix) - 1)
    cut = os.fsencode(name)[:room].decode(errors="ignore") or "leafio"
    return os.path.join(directory, f".{cut}{suffix}")


def create_new(path, mode=None):
    """Opens the new file ``path`` for writing: with ``mode``, or as open()
    would create it (0666 less the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 0o666)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def lock_directory(path):
    """The directory of ``path`` opened and locked (flock, as C saves lock
    it for their commits), or None when it cannot be: as in C, the save then
    goes on unlocked.  Unlock with os.close."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)),
                     os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        return None
    return fd
