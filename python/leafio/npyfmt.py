"""npy records, byte for byte what ``numpy.save`` (numpy >= 1.24) writes.

The header is formatted here rather than by ``numpy.lib.format`` because
``npy(align=N)`` pads it further against the record's offset in the file,
as the C library does; with no alignment the bytes are numpy's.
"""

import ast
import struct

import numpy as np

from .errors import LeafioError

MAGIC = b"\x93NUMPY"
_ALIGN = 64
_GROWTH_AXIS_MAX_DIGITS = 21   # numpy leaves room for the first axis to grow
_MAX_HEADER = 1 << 20

# leafio's dtype names, and what numpy calls each one.  bfloat16 is what
# jnp.save writes: a 2-byte void, '<V2'; with ml_dtypes installed it is read
# as ml_dtypes.bfloat16, otherwise as the raw 2-byte values.
try:
    from ml_dtypes import bfloat16 as _bfloat16
    BFLOAT16 = np.dtype(_bfloat16)
except ImportError:
    BFLOAT16 = np.dtype("V2")

DTYPE_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
               "uint64", "float16", "bfloat16", "float32", "float64", "complex64",
               "complex128")


def dtype_from_name(name):
    """The numpy dtype of a leafio dtype name (``float32``, ``bfloat16``...)."""
    if name == "bfloat16":
        return BFLOAT16
    if name not in DTYPE_NAMES:
        raise LeafioError(f"unknown dtype {name!r} (expected one of {', '.join(DTYPE_NAMES)})")
    return np.dtype(name)


def dtype_name(dtype):
    """leafio's name of a numpy dtype; raises for dtypes leafio has not."""
    dtype = np.dtype(dtype)
    if dtype == BFLOAT16 or (dtype.kind == "V" and dtype.itemsize == 2 and not dtype.names):
        return "bfloat16"
    name = dtype.newbyteorder("=").name if dtype.byteorder not in ("=", "|") else dtype.name
    if name not in DTYPE_NAMES:
        raise LeafioError(f"leafio has no dtype {dtype.str!r} ({dtype.name})")
    return name


def descr(dtype):
    """The little-endian descr numpy writes for a leafio dtype."""
    name = dtype_name(dtype)
    if name == "bfloat16":
        return "<V2"
    return np.dtype(name).newbyteorder("<").str


def format_header(dtype, shape, offset=0, align=0):
    """The npy header (magic to newline) of an array, its data starting at a
    multiple of 64 from the record's start, or of ``align`` from the start of
    the stream when the record starts at ``offset``."""
    shape = tuple(int(d) for d in shape)
    text = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr(dtype), shape)
    if shape:
        text += " " * (_GROWTH_AXIS_MAX_DIGITS - len(repr(shape[0])))
    unit = align or _ALIGN
    base = offset % unit if align else 0
    raw = text.encode("latin-1")
    len_size = 2
    pad = unit - ((base + 8 + len_size + len(raw) + 1) % unit)
    if len(raw) + 1 + pad > 0xFFFF:
        len_size = 4
        pad = unit - ((base + 8 + len_size + len(raw) + 1) % unit)
    header = raw + b" " * pad + b"\n"
    if len_size == 2:
        prefix = MAGIC + b"\x01\x00" + struct.pack("<H", len(header))
    else:
        prefix = MAGIC + b"\x02\x00" + struct.pack("<I", len(header))
    return prefix + header


class Header:
    """A parsed npy header: dtype (as on file), shape, fortran order, and the
    header's length in bytes (the data follows it)."""

    __slots__ = ("dtype", "shape", "fortran", "size")

    def __init__(self, dtype, shape, fortran, size):
        self.dtype, self.shape, self.fortran, self.size = dtype, shape, fortran, size

    @property
    def data_size(self):
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def _dtype_from_descr(text):
    if not isinstance(text, str) or len(text) < 3 or text[0] not in "<>|=":
        raise LeafioError(f"npy header: unsupported dtype descr {text!r} (object, structured "
                          f"and string dtypes are refused)")
    if text[1] == "V" and text[2:] == "2":
        return BFLOAT16
    if text[1] not in "biufc":
        raise LeafioError(f"npy header: unsupported dtype descr {text!r} (object, structured "
                          f"and string dtypes are refused)")
    dtype = np.dtype(text)
    dtype_name(dtype)
    return dtype


def parse_header(prefix_and_rest):
    """Parses a header from bytes that start with it; returns a Header, or
    raises.  ``prefix_and_rest`` must hold the whole header."""
    b = prefix_and_rest
    if len(b) < 10:
        raise LeafioError(f"npy header: expected at least 10 bytes, found {len(b)}")
    if b[:6] != MAGIC:
        raise LeafioError("not an npy record: the magic is not \\x93NUMPY "
                          "(was the file written with another codec?)")
    major, minor = b[6], b[7]
    if (major, minor) not in ((1, 0), (2, 0), (3, 0)):
        raise LeafioError(f"npy header: unknown format version {major}.{minor} "
                          f"(expected 1.0, 2.0 or 3.0)")
    if major == 1:
        (length,), start = struct.unpack("<H", b[8:10]), 10
    else:
        if len(b) < 12:
            raise LeafioError("npy header: truncated length")
        (length,), start = struct.unpack("<I", b[8:12]), 12
    if length > _MAX_HEADER:
        raise LeafioError(f"npy header of {length} bytes is too long")
    if len(b) < start + length:
        raise LeafioError(f"npy header: expected {length} bytes of header, "
                          f"found {len(b) - start}")
    text = bytes(b[start:start + length]).decode("utf-8" if major == 3 else "latin-1")
    try:
        d = ast.literal_eval(text)
    except (SyntaxError, ValueError) as e:
        raise LeafioError(f"npy header is not a Python dict literal: {e}") from None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"}:
        raise LeafioError(f"npy header: expected the keys descr, fortran_order and shape, "
                          f"found {text.strip()!r}")
    shape, fortran = d["shape"], d["fortran_order"]
    if (not isinstance(shape, tuple) or not all(isinstance(x, int) and x >= 0 for x in shape)
            or not isinstance(fortran, bool)):
        raise LeafioError(f"npy header: malformed shape or fortran_order in {text.strip()!r}")
    return Header(_dtype_from_descr(d["descr"]), shape, fortran, start + length)


def read_header(f):
    """Reads one header from ``f`` (positioned at the record)."""
    head = f.read(12)
    if len(head) < 10:
        raise LeafioError(f"npy header: expected 10 bytes, found {len(head)} "
                          f"(the file ends early)")
    if head[:6] == MAGIC and head[6] == 1:
        length, start = struct.unpack("<H", head[8:10])[0], 10
    elif head[:6] == MAGIC and len(head) == 12 and head[6] in (2, 3):
        length, start = struct.unpack("<I", head[8:12])[0], 12
    else:
        return parse_header(head)   # raises the precise error
    if length > _MAX_HEADER:
        raise LeafioError(f"npy header of {length} bytes is too long")
    rest = f.read(start + length - len(head))
    return parse_header(head + rest)


def read_data(f, header):
    """The array after ``header``, C-ordered in native byte order."""
    count = int(np.prod(header.shape, dtype=np.int64))
    out = np.empty(count, dtype=header.dtype)
    got = f.readinto(out.view(np.uint8)) if out.nbytes else 0
    if got != header.data_size:
        raise LeafioError(f"npy record: expected {header.data_size} bytes of data, found "
                          f"{got} (the file ends early)")
    if header.fortran:
        out = out.reshape(header.shape[::-1]).T.copy(order="C")
    else:
        out = out.reshape(header.shape)
    if out.dtype.byteorder == ">":
        out = out.astype(out.dtype.newbyteorder("="))
    return out


def write(f, array, offset=0, align=0):
    """Writes ``array`` (any numpy array of a leafio dtype) as one npy record."""
    array = np.asarray(array)
    f.write(format_header(array.dtype, array.shape, offset, align))
    little = array.dtype.newbyteorder("<") if array.dtype.kind != "V" else array.dtype
    data = np.ascontiguousarray(array, dtype=little)
    if data.nbytes:
        f.write(data.reshape(-1).view(np.uint8))


def leaf_array(value):
    """A leaf as the array its record holds: Python scalars become the 0-d
    bool/int64/float64/complex128 arrays Equinox saves, numpy scalars 0-d
    arrays of their dtype."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, np.generic):
        return np.asarray(value)
    if isinstance(value, bool):
        return np.asarray(value, dtype=np.bool_)
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise LeafioError(f"the int {value} does not fit an int64 scalar")
        return np.asarray(value, dtype=np.int64)
    if isinstance(value, float):
        return np.asarray(value, dtype=np.float64)
    if isinstance(value, complex):
        return np.asarray(value, dtype=np.complex128)
    raise LeafioError(f"a {type(value).__name__} is not an array or a scalar")


def describe_array(dtype, shape):
    return f"{dtype_name(dtype)} array of shape {tuple(shape)!r}"


def check_like(like, dtype, shape):
    """Refuses a record of ``dtype`` and ``shape`` for an array ``like`` of
    another dtype or shape, and an array of many elements for a scalar."""
    if like is None:
        return
    if hasattr(like, "shape") and hasattr(like, "dtype") and not isinstance(like, np.generic):
        if np.dtype(like.dtype) != np.dtype(dtype).newbyteorder("=") or tuple(like.shape) != tuple(shape):
            raise LeafioError(f"expected {describe_array(like.dtype, like.shape)}, "
                              f"found {describe_array(dtype, shape)}")
    elif int(np.prod(shape, dtype=np.int64)) != 1:
        what = dtype_name(like.dtype) if isinstance(like, np.generic) else type(like).__name__
        raise LeafioError(f"expected a {what} scalar, found {describe_array(dtype, shape)}")
