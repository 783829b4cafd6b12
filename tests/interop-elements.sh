#!/bin/sh
# lf_array_cast against numpy's astype for every pair of dtypes: the file
# test-elements' "oracle" case writes (LF_ELEMENTS_OUT) holds, for each
# dtype, its sample values and their lossy casts to every dtype.  Where
# numpy leaves a result undefined (a float out of an integer's range, NaN
# or an infinity into an integer) it is not compared; leafio saturates
# there (see <leafio/element.h>).  numpy has no bfloat16: it is computed
# here from float32, as ml_dtypes does (round half to even, quiet NaN).
set -eu
: "${LF_PYTHON:?}" "${LF_TEST_BUILDDIR:?}" "${LF_TOP_BUILDDIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
LF_ELEMENTS_OUT="$tmp/elements.eqx" CK_RUN_SUITE=elements CK_RUN_CASE=oracle \
  "$LF_TEST_BUILDDIR/test-elements" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
test -s "$tmp/elements.eqx"
"$LF_PYTHON" - "$tmp/elements.eqx" <<'PY'
import sys
import warnings
import numpy as np

# LfDType order, from LF_DTYPE_BOOL.
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float16", "bfloat16", "float32", "float64", "complex64", "complex128"]


def bf16_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16(x):
    bits = x.astype(np.float32).view(np.uint32)
    rounded = ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    quiet = (((bits >> 16) & 0x8000) | 0x7fc0).astype(np.uint16)
    return np.where(np.isnan(x.astype(np.float32)), quiet, rounded)


def load(f, name):
    a = np.load(f)
    return a.view(np.uint16) if name == "bfloat16" else a


def astype(src, frm, to):
    """numpy's cast, with bfloat16 as float32 rounded."""
    values = bf16_to_f32(src) if frm == "bfloat16" else src
    if to == "bfloat16":
        if values.dtype.kind == "c":
            values = values.real
        return f32_to_bf16(values.astype(np.float32))
    return values.astype(to)


def defined(src, frm, to):
    """Where numpy's result is defined."""
    if to == "bool" or np.dtype("float32" if to == "bfloat16" else to).kind not in "iu":
        return np.ones(src.shape, bool)
    values = bf16_to_f32(src) if frm == "bfloat16" else src
    if values.dtype.kind not in "fc":
        return np.ones(src.shape, bool)
    real = values.real.astype(np.float64)
    info = np.iinfo(to)
    t = np.trunc(np.where(np.isfinite(real), real, 0))
    return np.isfinite(real) & (t >= float(info.min)) & (t < 2.0 ** info.bits if info.min == 0
                                                         else t < 2.0 ** (info.bits - 1))


bad = compared = 0
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    with open(sys.argv[1], "rb") as f:
        for frm in DTYPES:
            src = load(f, frm)
            for to in DTYPES:
                got = load(f, to)
                want = astype(src, frm, to)
                ok = defined(src, frm, to)
                g = got.view(np.uint8).reshape(len(got), -1)
                w = np.ascontiguousarray(want).view(np.uint8).reshape(len(want), -1)
                compared += int(ok.sum())
                for i in np.nonzero(ok & ~(g == w).all(axis=1))[0]:
                    bad += 1
                    if bad <= 20:
                        print("%s -> %s: element %d (%r): leafio %r, numpy %r"
                              % (frm, to, i, src[i], got[i], want[i]))
        assert f.read(1) == b"", "trailing bytes"
if bad:
    sys.exit("%d of %d elements differ from numpy" % (bad, compared))
assert compared > 10000, compared
PY

# `leafio diff` compares through the same model: int64 values past 2^53
# are told apart, bool is 0/1 against any dtype.
"$LF_PYTHON" - "$tmp" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
big = 2 ** 53
for name, leaves in (("a", [np.array([big + 1], np.int64), np.array([True, False]),
                            np.array([big], np.int64)]),
                     ("b", [np.array([big], np.int64), np.array([1, 0], np.uint8),
                            np.array([big], np.int64)])):
    with open("%s/%s.eqx" % (d, name), "wb") as f:
        for leaf in leaves:
            np.save(f, leaf)
PY
status=0
"$LF_TOP_BUILDDIR/tools/leafio" diff "$tmp/a.eqx" "$tmp/b.eqx" >"$tmp/diff" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$tmp/diff"; echo "diff exited $status, expected 1"; exit 1; }
grep -q "^record 0 (offset [0-9]*): int64 (1,): 1 of 1 elements differ, max abs diff 1," \
  "$tmp/diff" || { cat "$tmp/diff"; echo "int64 2^53 + 1 against 2^53 not reported"; exit 1; }
grep -q "^record 1 (offset [0-9]*): bool (2,) vs uint8 (2,): dtypes differ; values equal," "$tmp/diff" \
  || { cat "$tmp/diff"; echo "bool against uint8 0/1 not equal values"; exit 1; }
if grep -q "^record 2" "$tmp/diff"; then cat "$tmp/diff"; exit 1; fi
