"""cast: on load, array records are read as they describe themselves and
converted to ``like``'s dtype; saving is the inner codec's.

lossy=deny (default): a conversion that would change a value fails, naming
the element.  lossy=allow: numpy's ``astype`` (floats into integers
truncate toward zero, NaN gives 0 and out-of-range values saturate, as the
C library does where numpy is undefined).  Options: lossy=, inner=."""

import numpy as np

from .. import npyfmt
from ..errors import LeafioError
from ..tree import leaf_kind
from . import check_options, choice_option
from . import describe as inner_describe
from . import handles as inner_handles
from . import read as inner_read
from . import write as inner_write
from .float16 import bfloat16_to_float32, float32_to_bfloat16

NAME = "cast"


def _parse(options):
    check_options(NAME, options, ("lossy", "inner"))
    return choice_option(NAME, options, "lossy", ("deny", "allow")), options.get("inner", "npy")


def handles(leaf, options):
    return inner_handles(_parse(options)[1], leaf)


def write(f, value, options):
    inner_write(f, _parse(options)[1], value)


def _int_range(dtype):
    if dtype.kind == "b":
        return 0, 1
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _float_to_int(a, dtype):
    """Truncation toward zero; NaN gives 0 and out-of-range values saturate."""
    low, high = _int_range(dtype)
    t = np.nan_to_num(np.trunc(a), nan=0.0, posinf=np.inf, neginf=-np.inf)
    with np.errstate(invalid="ignore"):
        out = np.clip(t, low, high).astype(dtype)
    # float64 cannot hold int64's or uint64's maximum: the top saturates exactly.
    out[t >= float(high)] = high
    out[t <= float(low)] = low
    return out


def _exact(source, out):
    """Where converting ``source`` to ``out`` kept the value."""
    s, o = source.dtype, out.dtype
    if s.kind in "biu" and o.kind in "biu":
        low, high = _int_range(o)
        s_low, s_high = _int_range(s)
        t = s.type
        return (source >= t(max(low, s_low))) & (source <= t(min(high, s_high)))
    with np.errstate(all="ignore"):
        narrowed = out.real if o.kind == "c" and s.kind != "c" else out
        back = narrowed.astype(s)
        same = back == source
        if o.kind == "c" and s.kind != "c":
            same &= out.imag == 0
        if s.kind in "fc" and o.kind in "fc":
            same |= np.isnan(source) & np.isnan(back)
        if s.kind in "iu" and o.kind in "fc":
            low, high = _int_range(s)
            same &= (narrowed >= float(low)) & (narrowed < float(high + 1))
    return same


def _convert(got, dtype, lossy):
    name = npyfmt.dtype_name(dtype)
    source = bfloat16_to_float32(got) if npyfmt.dtype_name(got.dtype) == "bfloat16" else got
    kind = np.dtype(dtype).kind
    with np.errstate(all="ignore"):
        if name == "bfloat16":
            real = source.real if source.dtype.kind == "c" else source
            out = float32_to_bfloat16(real.astype(np.float32))
            compared = bfloat16_to_float32(out)
        elif kind in "iu" and source.dtype.kind in "fc":
            out = compared = _float_to_int(source.real if source.dtype.kind == "c" else source,
                                           dtype)
        else:
            real = source.real if source.dtype.kind == "c" and kind != "c" else source
            out = compared = real.astype(dtype)
    if lossy == "allow":
        return out
    exact = _exact(source, compared)
    if source.dtype.kind == "c" and kind != "c":
        exact &= source.imag == 0
    bad = np.flatnonzero(~np.asarray(exact, dtype=bool))
    if bad.size:
        i = int(bad[0])
        value = np.ravel(got)[i]
        raise LeafioError(f"cannot load {npyfmt.dtype_name(got.dtype)} data into {name} "
                          f"(cast(lossy=allow) would round it): element {i} ({value}) of "
                          f"{npyfmt.dtype_name(got.dtype)} does not fit {name} exactly")
    return out


def read(f, like, options):
    lossy, inner = _parse(options)
    if leaf_kind(like) != "array":
        return inner_read(f, inner, like)
    got = inner_read(f, inner, None)
    if (not isinstance(got, np.ndarray) or got.dtype == like.dtype
            or tuple(got.shape) != tuple(like.shape)):
        return got   # the loader's check reports another kind or shape
    return _convert(got, like.dtype, lossy)


def describe(f, like, options):
    _, inner = _parse(options)
    info = inner_describe(f, inner, None if leaf_kind(like) == "array" else like)
    if info is not None and leaf_kind(like) == "array" and info.get("dtype") != like.dtype:
        info.pop("data_at", None)
    return info
