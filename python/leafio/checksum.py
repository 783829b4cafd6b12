"""XXH3-64 (seed 0), the hash of compressed records and manifests.

Debian's python3-xxhash when it is installed; otherwise libxxhash itself
(which every leafio installation has, since libleafio links it) through
ctypes.  ``xxh3_64`` is None when neither is found: checksums are then not
verified, and :data:`AVAILABLE` says so."""

import ctypes
import ctypes.util

__all__ = ["xxh3_64", "AVAILABLE"]


def _from_module():
    try:
        import xxhash
    except ImportError:
        return None
    return xxhash.xxh3_64_intdigest


def _from_library():
    for name in (ctypes.util.find_library("xxhash"), "libxxhash.so.0"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            fn = lib.XXH3_64bits
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_uint64
        fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

        def xxh3(data, fn=fn):
            view = memoryview(data).cast("B")
            if view.nbytes == 0:
                return fn(None, 0)
            if view.readonly:
                buffer = ctypes.c_char_p(bytes(view))
                return fn(buffer, view.nbytes)
            address = ctypes.addressof(ctypes.c_char.from_buffer(view))
            return fn(address, view.nbytes)
        return xxh3
    return None


xxh3_64 = _from_module() or _from_library()
AVAILABLE = xxh3_64 is not None
