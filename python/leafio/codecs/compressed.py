"""compressed: an inner codec's record in a zstd frame, with its size and an
XXH3-64 checksum (docs/FORMAT.md, "The compressed record").

Frames are made as the C library makes them, so files are byte-identical
with the same libzstd: leaves under 2 MiB in one frame that records its
content size, big array leaves with zstd's worker threads (jobs of 2 MiB,
no content size); the first block always ends after the inner record's
first 16 KiB.  Options: level= (default 3), inner= (default npy),
threads= (accepted for compatibility; the bytes do not depend on it)."""

import io
import struct

import zstandard

from ..checksum import xxh3_64
from ..errors import LeafioError
from ..refs import parse
from ..tree import leaf_kind
from . import check_options, int_option
from . import handles as inner_handles
from . import read as inner_read
from . import write as inner_write

NAME = "compressed"
MAGIC = b"\x93LFZSTD"
HEADER = struct.Struct("<7sBIIQQQ")   # magic, version, ref_len, flags, raw, compressed, xxh3
_THREADED_MIN_SIZE = 2 << 20
_JOB_SIZE = 2 << 20
_FIRST_BLOCK = 16 * 1024
_MAX_REFERENCE = 4096
_MAX_WINDOW_LOG = 25


def _parse(options):
    check_options(NAME, options, ("level", "inner", "threads"))
    level = int_option(NAME, options, "level", zstandard.MIN_COMPRESSION_LEVEL
                       if hasattr(zstandard, "MIN_COMPRESSION_LEVEL") else -131072,
                       zstandard.MAX_COMPRESSION_LEVEL, 3)
    int_option(NAME, options, "threads", 0, 256, 0)
    return level, str(parse(options.get("inner", "npy")))


def handles(leaf, options):
    return inner_handles(_parse(options)[1], leaf)


def _with_first_block(cobj, raw):
    """One frame whose first block ends after _FIRST_BLOCK bytes, so the
    inner record's header is found in a short prefix of the frame."""
    return b"".join((cobj.compress(raw[:_FIRST_BLOCK]),
                     cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK),
                     cobj.compress(raw[_FIRST_BLOCK:]), cobj.flush()))


def _compress_small(raw, level):
    cctx = zstandard.ZstdCompressor(level=level)
    if len(raw) <= _FIRST_BLOCK:
        return cctx.compress(raw)
    return _with_first_block(cctx.compressobj(size=len(raw)), raw)


def _compress_threaded(raw, level):
    # Only the level, as the C library sets it: zstd derives the rest for an
    # input of unknown size (from_level would derive them otherwise).
    params = zstandard.ZstdCompressionParameters(
        compression_level=level, threads=2, job_size=_JOB_SIZE,
        window_log=_MAX_WINDOW_LOG if level > 20 else 0)
    return _with_first_block(zstandard.ZstdCompressor(compression_params=params).compressobj(),
                             raw)


def write(f, value, options):
    level, inner = _parse(options)
    buffer = io.BytesIO()
    inner_write(buffer, inner, value)
    raw = buffer.getbuffer()
    big = leaf_kind(value) == "array" and value.nbytes >= _THREADED_MIN_SIZE
    frame = _compress_threaded(raw, level) if big else _compress_small(raw, level)
    if xxh3_64 is None:
        raise LeafioError("cannot write a compressed record: no XXH3 implementation "
                          "(install python3-xxhash, or libxxhash)")
    reference = inner.encode("utf-8")
    f.write(HEADER.pack(MAGIC, 1, len(reference), 0, len(raw), len(frame), xxh3_64(raw)))
    f.write(reference)
    f.write(frame)


def _read_head(f):
    head = f.read(HEADER.size)
    if len(head) != HEADER.size:
        raise LeafioError(f"compressed record header: expected {HEADER.size} bytes, found "
                          f"{len(head)} (the file ends early)")
    magic, version, ref_len, flags, raw_size, size, checksum = HEADER.unpack(head)
    if magic != MAGIC:
        raise LeafioError("not a compressed record: the magic is not \\x93LFZSTD "
                          "(was the file written with another codec?)")
    if version != 1 or flags != 0:
        raise LeafioError(f"compressed record version {version} with flags {flags:#x}; this "
                          f"reader knows version 1 with flags 0")
    if not 1 <= ref_len <= _MAX_REFERENCE:
        raise LeafioError(f"compressed record: inner codec reference of {ref_len} bytes "
                          f"(expected 1 to {_MAX_REFERENCE})")
    if size == 0:
        raise LeafioError("compressed record: a frame of 0 bytes is impossible")
    reference = f.read(ref_len)
    if len(reference) != ref_len:
        raise LeafioError("compressed record: the file ends in the inner codec reference")
    try:
        text = reference.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        raise LeafioError("compressed record: the inner codec reference is not text")
    return text, raw_size, size, checksum


def _decompress(frame, raw_size):
    dctx = zstandard.ZstdDecompressor(max_window_size=1 << _MAX_WINDOW_LOG)
    try:
        params = zstandard.get_frame_parameters(frame)
        if params.content_size not in (zstandard.CONTENTSIZE_UNKNOWN, raw_size):
            raise zstandard.ZstdError("content size")
        # Bounded by the declared size: a frame cannot make this allocate more.
        with dctx.stream_reader(frame) as reader:
            chunks, got = [], 0
            while got <= raw_size:
                chunk = reader.read(raw_size + 1 - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
            raw = b"".join(chunks)
    except zstandard.ZstdError as e:
        if "window" in str(e).lower():
            raise LeafioError("the zstd frame needs a window above 32 MiB, the most this "
                              "reader allows") from None
        raise LeafioError(f"the zstd frame is malformed or does not hold the {raw_size} "
                          f"bytes the record declares ({e})") from None
    if len(raw) != raw_size:
        raise LeafioError(f"the zstd frame is malformed or does not hold the {raw_size} "
                          f"bytes the record declares (it holds {len(raw)})")
    return raw


def read(f, like, options):
    _parse(options)
    reference, raw_size, size, checksum = _read_head(f)
    frame = f.read(size)
    if len(frame) != size:
        raise LeafioError(f"compressed record: expected {size} bytes of zstd frame, found "
                          f"{len(frame)} (the file ends early)")
    raw = _decompress(frame, raw_size)
    if xxh3_64 is not None and xxh3_64(raw) != checksum:
        raise LeafioError(f"compressed record: checksum {xxh3_64(raw):016x} of the inner "
                          f"record, the header says {checksum:016x}")
    inner = io.BytesIO(raw)
    value = inner_read(inner, reference, like)
    if inner.tell() != raw_size:
        raise LeafioError(f"compressed record: the inner codec '{reference}' read "
                          f"{inner.tell()} of the {raw_size} bytes")
    return value


def describe(f, like, options):
    _parse(options)
    reference, _, size, _ = _read_head(f)
    return {"size": HEADER.size + len(reference.encode("utf-8")) + size}
