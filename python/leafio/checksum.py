"""XXH3-64 (seed 0), the hash of compressed records and manifests.

Debian's python3-xxhash when it is installed; otherwise libxxhash itself
(which every leafio installation has, since libleafio links it) through
ctypes.  ``xxh3_64(data)`` hashes bytes at once; ``Xxh3Stream()`` hashes
what its ``update`` is given, piece by piece (``intdigest()`` and
``reset()``).  Both are None when neither source is found: checksums are
then not verified, and :data:`AVAILABLE` says so."""

import ctypes
import ctypes.util

import numpy as np

__all__ = ["xxh3_64", "Xxh3Stream", "AVAILABLE"]


def _from_module():
    try:
        import xxhash
    except ImportError:
        return None

    class Stream:
        """xxhash's streaming XXH3-64 under this module's names."""

        __slots__ = ("_state",)

        def __init__(self):
            self._state = xxhash.xxh3_64()

        def update(self, data):
            self._state.update(memoryview(data).cast("B"))

        def intdigest(self):
            return self._state.intdigest()

        def reset(self):
            self._state.reset()

    return xxhash.xxh3_64_intdigest, Stream


def _address(data):
    """What ctypes passes as the address of a contiguous buffer's first
    byte, copying nothing: bytes as they are, a writable buffer through
    ctypes, any other through numpy (the slowest; a load hashes many small
    buffers, so the cost of each call counts)."""
    if type(data) is bytes:
        return data
    view = memoryview(data).cast("B")
    if not view.readonly:
        return ctypes.addressof(ctypes.c_char.from_buffer(view))
    return np.frombuffer(view, dtype=np.uint8).ctypes.data


def _bind(lib):
    fn = lib.XXH3_64bits
    fn.restype = ctypes.c_uint64
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    create, free = lib.XXH3_createState, lib.XXH3_freeState
    create.restype = ctypes.c_void_p
    free.argtypes = [ctypes.c_void_p]
    reset, update, digest = lib.XXH3_64bits_reset, lib.XXH3_64bits_update, lib.XXH3_64bits_digest
    reset.argtypes = [ctypes.c_void_p]
    update.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    digest.restype = ctypes.c_uint64
    digest.argtypes = [ctypes.c_void_p]

    def xxh3(data):
        if type(data) is bytes:
            return fn(data, len(data))
        size = memoryview(data).nbytes
        return fn(_address(data) if size else None, size)

    class Stream:
        """libxxhash's XXH3_state_t, freed with the object."""

        __slots__ = ("_state",)

        def __init__(self):
            self._state = create()
            if not self._state:
                raise MemoryError("XXH3_createState failed")
            reset(self._state)

        def __del__(self, free=free):
            if getattr(self, "_state", None):
                free(self._state)

        def update(self, data):
            size = memoryview(data).nbytes
            if size:
                update(self._state, _address(data), size)

        def intdigest(self):
            return digest(self._state)

        def reset(self):
            reset(self._state)

    return xxh3, Stream


def _from_library():
    for name in (ctypes.util.find_library("xxhash"), "libxxhash.so.0"):
        if not name:
            continue
        try:
            return _bind(ctypes.CDLL(name))
        except (OSError, AttributeError):
            continue
    return None


xxh3_64, Xxh3Stream = _from_module() or _from_library() or (None, None)
AVAILABLE = xxh3_64 is not None
