"""float16: float32, float64 and bfloat16 arrays stored as float16 records of
the inner codec (npy by default), restored to ``like``'s dtype on load;
every other leaf goes to the inner codec unchanged.

Conversions are numpy's ``astype`` (round half to even, subnormals kept);
bfloat16 is widened exactly to float32 first, as the C library does.
Options: overflow=inf|error, inner=CODEC."""

import numpy as np

from .. import npyfmt
from ..errors import LeafioError
from ..tree import Abstract, leaf_kind
from . import check_options, choice_option
from . import describe as inner_describe
from . import handles as inner_handles
from . import read as inner_read
from . import write as inner_write

NAME = "float16"
_NARROWED = ("float32", "float64", "bfloat16")


def _parse(options):
    check_options(NAME, options, ("overflow", "inner"))
    return choice_option(NAME, options, "overflow", ("inf", "error")), options.get("inner", "npy")


def _narrowed(leaf):
    return leaf_kind(leaf) == "array" and npyfmt.dtype_name(leaf.dtype) in _NARROWED


def bfloat16_to_float32(a):
    if npyfmt.BFLOAT16.kind != "V":
        return a.astype(np.float32)
    bits = np.ascontiguousarray(a).view(np.uint16).astype(np.uint32) << 16
    return bits.view(np.float32)


def float32_to_bfloat16(a):
    """Round half to even, NaNs kept quiet (the C library's conversion)."""
    if npyfmt.BFLOAT16.kind != "V":
        return a.astype(npyfmt.BFLOAT16)
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(a)
    rounded[nan] = (bits[nan] >> 16) | 0x40
    return rounded.astype(np.uint16).view(npyfmt.BFLOAT16)


def handles(leaf, options):
    return inner_handles(_parse(options)[1], leaf)


def write(f, value, options):
    overflow, inner = _parse(options)
    if not _narrowed(value):
        inner_write(f, inner, value)
        return
    if isinstance(value, Abstract):
        raise LeafioError("cannot save an abstract array (dtype and shape only)")
    source = bfloat16_to_float32(value) if npyfmt.dtype_name(value.dtype) == "bfloat16" else value
    with np.errstate(over="ignore", invalid="ignore"):
        half = np.asarray(source).astype(np.float16)
    if overflow == "error":
        bad = np.flatnonzero(np.isinf(half) & np.isfinite(source))
        if bad.size:
            i = int(bad[0])
            raise LeafioError(f"element {i} ({float(np.ravel(source)[i]):g}) of the "
                              f"{npyfmt.dtype_name(value.dtype)} array overflows float16 "
                              f"(largest finite value 65504); float16(overflow=inf) stores it "
                              f"as an infinity")
    inner_write(f, inner, half)


def read(f, like, options):
    _, inner = _parse(options)
    if not _narrowed(like):
        return inner_read(f, inner, like)
    got = inner_read(f, inner, Abstract(np.float16, like.shape))
    if not isinstance(got, np.ndarray) or got.dtype != np.float16:
        raise LeafioError(f"float16 record expected for a {npyfmt.dtype_name(like.dtype)} leaf, "
                          f"found {type(got).__name__}")
    if npyfmt.dtype_name(like.dtype) == "bfloat16":
        return float32_to_bfloat16(got.astype(np.float32))
    return got.astype(like.dtype)


def describe(f, like, options):
    _, inner = _parse(options)
    if not _narrowed(like):
        return inner_describe(f, inner, like)
    info = inner_describe(f, inner, Abstract(np.float16, like.shape))
    if info is not None:
        info.pop("data_at", None)   # the data on file is not the leaf's dtype
    return info
