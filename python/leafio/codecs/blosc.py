"""The `blosc` codec: an array's npy header, then its data shuffled and
compressed by c-blosc in chunks (docs/FORMAT.md, "The blosc record").

    read(f, like, options)    -> numpy array, reading exactly one record
    write(f, value, options)  writes one record

Needs python3-blosc.  The checksum is XXH3-64 as leafio.checksum computes
it (python3-xxhash or libxxhash); where neither is found records are
written with flag 0 (no checksum) and read without checking, as the
format allows.
"""
import io
import os
import struct

import blosc as _blosc
import numpy as np
from numpy.lib import format as _npy

from .. import npyfmt
from ..checksum import xxh3_64

NAME = "blosc"

MAGIC = b"\x93LFBLOSC"
VERSION = 1
FLAG_CHECKSUM = 0x01
# magic, version, flags, reserved, npy header length, chunk size,
# compressed size, XXH3-64 of the raw data
HEADER = struct.Struct("<8sBBHIQQQ")
CHUNK_HEADER_SIZE = 16
MAX_NPY_HEADER = 16384
MAX_CHUNK = 1 << 30
# c-blosc 1.21 can write split buffers of under 128 elements that it cannot
# read back; such buffers are compressed unshuffled (element size 1).
SPLIT_MIN_ELEMENTS = 128

SHUFFLES = {"byte": _blosc.SHUFFLE, "bit": _blosc.BITSHUFFLE, "none": _blosc.NOSHUFFLE}
COMPRESSORS = ("zstd", "lz4", "lz4hc", "blosclz", "zlib")
DEFAULTS = {"shuffle": "byte", "clevel": 1, "compressor": "zstd", "chunk_mb": 1,
            "threads": 0, "blocksize": 0}


def _read_exact(f, n, what):
    data = f.read(n)
    if len(data) != n:
        raise ValueError("blosc record: %s: expected %d bytes, found %d" % (what, n, len(data)))
    return data


def _parse_npy_header(raw):
    bio = io.BytesIO(raw)
    version = _npy.read_magic(bio)
    if version == (1, 0):
        shape, fortran, dtype = _npy.read_array_header_1_0(bio)
    elif version == (2, 0):
        shape, fortran, dtype = _npy.read_array_header_2_0(bio)
    else:
        raise ValueError("blosc record: inner npy header version %d.%d is not supported" % version)
    if bio.tell() != len(raw):
        raise ValueError("blosc record: the inner npy header is %d bytes long, the record "
                         "declares %d" % (bio.tell(), len(raw)))
    if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None:
        raise ValueError("blosc record: dtype %s is not an element type" % dtype)
    return shape, fortran, dtype


def _read_chunks(f, data_size, chunk, compressed):
    out = bytearray(data_size)
    left = compressed
    for index, at in enumerate(range(0, data_size, chunk)):
        want = min(chunk, data_size - at)
        head = _read_exact(f, CHUNK_HEADER_SIZE, "chunk %d" % index)
        nbytes, cbytes, _ = _blosc.get_cbuffer_sizes(head)
        if nbytes != want or not CHUNK_HEADER_SIZE <= cbytes <= min(left, want + CHUNK_HEADER_SIZE):
            raise ValueError("blosc record: chunk %d declares %d bytes in %d compressed; expected "
                             "%d in at most %d" % (index, nbytes, cbytes, want,
                                                   min(left, want + CHUNK_HEADER_SIZE)))
        buffer = head + _read_exact(f, cbytes - CHUNK_HEADER_SIZE, "chunk %d" % index)
        left -= cbytes
        try:
            raw = _blosc.decompress(buffer)
        except Exception as e:
            raise ValueError("blosc record: chunk %d is corrupt: %s" % (index, e)) from None
        if len(raw) != want:
            raise ValueError("blosc record: chunk %d is corrupt" % index)
        out[at:at + want] = raw
    if left != 0:
        raise ValueError("blosc record: the chunks take %d of the %d compressed bytes the record "
                         "declares" % (compressed - left, compressed))
    return out


def read(f, like=None, options=None):
    """Reads one blosc record from `f` and returns its array (numpy order
    and byte order as stored); an array `like` must have its dtype and shape."""
    magic, version, flags, reserved, npy_len, chunk, compressed, checksum = HEADER.unpack(
        _read_exact(f, HEADER.size, "header"))
    if magic != MAGIC:
        raise ValueError("not a blosc record: the magic is not \\x93LFBLOSC")
    if version != VERSION or flags & ~FLAG_CHECKSUM or reserved:
        raise ValueError("blosc record version %d with flags 0x%x; this reader knows version 1 "
                         "with flags 0 or 1" % (version, flags))
    if not 10 <= npy_len <= MAX_NPY_HEADER or not 1 <= chunk <= MAX_CHUNK:
        raise ValueError("blosc record: npy header of %d bytes and chunks of %d bytes"
                         % (npy_len, chunk))
    shape, fortran, dtype = _parse_npy_header(_read_exact(f, npy_len, "npy header"))
    data_size = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    n_chunks = -(-data_size // chunk)
    least = n_chunks * CHUNK_HEADER_SIZE
    if not least <= compressed <= least + data_size:
        raise ValueError("blosc record: %d bytes of data in %d chunks cannot take %d compressed "
                         "bytes" % (data_size, n_chunks, compressed))
    if isinstance(like, np.ndarray) and (like.shape != shape or like.dtype.newbyteorder("=")
                                         != dtype.newbyteorder("=")):
        raise ValueError("blosc record: expected %s array of shape %s, found %s array of shape %s"
                         % (like.dtype, like.shape, dtype, shape))
    raw = _read_chunks(f, data_size, chunk, compressed)
    digest = xxh3_64
    if flags & FLAG_CHECKSUM and digest is not None and digest(bytes(raw)) != checksum:
        raise ValueError("blosc record: checksum mismatch: the record is corrupt")
    return np.frombuffer(raw, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _options(options):
    o = dict(DEFAULTS)
    for key, value in (options or {}).items():
        if key not in DEFAULTS:
            raise ValueError("codec 'blosc': unknown option %s" % key)
        o[key] = value
    if o["shuffle"] not in SHUFFLES or o["compressor"] not in COMPRESSORS:
        raise ValueError("codec 'blosc': shuffle=%s, compressor=%s" % (o["shuffle"],
                                                                       o["compressor"]))
    for key, low, high in (("clevel", 0, 9), ("chunk_mb", 1, MAX_CHUNK >> 20),
                           ("threads", 0, 256), ("blocksize", 0, 64 << 20)):
        o[key] = int(o[key])
        if not low <= o[key] <= high:
            raise ValueError("codec 'blosc': option %s=%d: expected %d to %d"
                             % (key, o[key], low, high))
    return o


def write(f, value, options=None):
    """Writes `value` (an array or a scalar, stored as a 0-d array) as one
    blosc record; threads= only changes the speed, never the bytes."""
    o = _options(options)
    array = np.require(np.asarray(value), requirements="C")
    # "V2" is how numpy without ml_dtypes holds bfloat16.
    if array.dtype.hasobject or array.dtype.kind not in "biufcV" or array.dtype.names:
        raise TypeError("blosc: cannot store dtype %s" % array.dtype)
    # Stored little-endian, as the C plugin stores what leafio holds natively.
    if array.dtype.kind != "V" and array.dtype.byteorder == ">":
        array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    npy = npyfmt.format_header(array.dtype, array.shape)
    data = memoryview(array.reshape(-1).view(np.uint8)) if array.size else memoryview(b"")
    unit = array.dtype.itemsize // (2 if array.dtype.kind == "c" else 1)
    chunk = o["chunk_mb"] << 20
    chunks = []
    if o["blocksize"]:
        _blosc.set_blocksize(o["blocksize"])
    # leafio's plugin always splits a block's bytes into streams (smaller
    # files of float weights); python-blosc has no setter for that, but
    # c-blosc's compressor reads it from the environment.
    split_before = os.environ.get("BLOSC_SPLITMODE")
    os.environ["BLOSC_SPLITMODE"] = "ALWAYS"
    # c-blosc's threads order a chunk's blocks as they finish: one thread
    # writes the bytes the C plugin writes.
    threads_before = _blosc.set_nthreads(1)
    try:
        for at in range(0, len(data), chunk):
            piece = bytes(data[at:at + chunk])
            typesize = unit if len(piece) >= SPLIT_MIN_ELEMENTS * unit else 1
            chunks.append(_blosc.compress(piece, typesize=typesize, clevel=o["clevel"],
                                          shuffle=SHUFFLES[o["shuffle"]], cname=o["compressor"]))
    finally:
        _blosc.set_nthreads(threads_before)
        if split_before is None:
            del os.environ["BLOSC_SPLITMODE"]
        else:
            os.environ["BLOSC_SPLITMODE"] = split_before
        if o["blocksize"]:
            _blosc.set_blocksize(0)
    digest = xxh3_64
    flags, checksum = (FLAG_CHECKSUM, digest(bytes(data))) if digest else (0, 0)
    compressed = sum(len(c) for c in chunks)
    f.write(HEADER.pack(MAGIC, VERSION, flags, 0, len(npy), chunk, compressed, checksum))
    f.write(npy)
    for c in chunks:
        f.write(c)
