"""float16 against numpy, bit for bit.

1. Conversions: a sample of float32 and float64 bit patterns (every class:
   normals, subnormals, round-half-even ties, overflow, infinities, every
   NaN payload class, signed zeros) and all 65536 halves go through
   f16-convert with each implementation the CPU has; the bits must equal
   numpy's astype.
2. Files: codec-save writes a tree with `float16` (and with
   `compressed(inner=float16)` via the C side's own round trip); numpy's
   np.load reads the float16 records and finds astype(float16) of the data.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

builddir = os.environ.get("LF_TEST_BUILDDIR", ".")
helper = os.path.join(builddir, "f16-convert")
saver = os.path.join(builddir, "codec-save")
failures = 0
checks = 0


def check(name, ok, detail=""):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
        print("FAIL:", name, detail)
    else:
        print("ok:", name)


def run_helper(impl, mode, data):
    proc = subprocess.run([helper, impl, mode], input=data.tobytes(),
                          stdout=subprocess.PIPE)
    if proc.returncode == 77:
        return None
    if proc.returncode != 0:
        raise SystemExit("%s %s %s failed with %d" % (helper, impl, mode, proc.returncode))
    return proc.stdout


def compare(name, got, expected):
    u = "u%d" % expected.itemsize
    got = np.frombuffer(got, dtype=u)
    want = expected.view(u)
    if len(got) != len(want):
        check(name, False, "%d values out, %d expected" % (len(got), len(want)))
        return
    bad = np.flatnonzero(got != want)
    detail = ""
    if len(bad):
        i = bad[0]
        detail = "%d mismatches; first at %d: got %#x, numpy %#x" % (
            len(bad), i, int(got[i]), int(want[i]))
    check(name, len(bad) == 0, detail)


rng = np.random.default_rng(20240601)

# float32: every upper-19-bit pattern (sign, exponent, the 10 bits that
# survive) with the low 13 bits in each rounding class, plus random bits and
# hand-picked edges.
upper = np.arange(1 << 19, dtype=np.uint32) << 13
low = np.array([0, 1, 0x0fff, 0x1000, 0x1001, 0x1fff], dtype=np.uint32)
f32_bits = (upper[:, None] | low[None, :]).ravel()
edges32 = np.array([
    0x00000000, 0x80000000, 0x7f800000, 0xff800000,       # zeros, infinities
    0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001,       # quiet, signalling NaNs
    0x7f801fff, 0x7f802000, 0x7fbfffff, 0x7fffffff,       # payloads that vanish / survive
    0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001,       # 65504, just below the tie, 65520
    0x47800000, 0x7f7fffff, 0x33000000, 0x33000001,       # 65536, FLT_MAX, 2^-25 tie, above it
    0x33800000, 0x33c00000, 0x387fc000, 0x387fe000,       # 2^-24, 1.5*2^-24, subnormal to normal carry
    0x38800000, 0x00000001, 0x807fffff, 0x3f801000,       # 2^-14, float32 subnormals, 1+2^-11 tie
    0x3f803000,                                           # tie to even upwards
], dtype=np.uint32)
f32_bits = np.concatenate([f32_bits, edges32,
                           rng.integers(0, 1 << 32, 4_000_000, dtype=np.uint64).astype(np.uint32)])
f32 = f32_bits.view(np.float32)
with np.errstate(all="ignore"):
    expected_f16 = f32.astype(np.float16)

# float64: edges plus every half-relevant exponent with random mantissas and
# the rounding classes of the 42 bits that go.
exps = np.arange(990, 1060, dtype=np.uint64)
mant_hi = rng.integers(0, 1 << 10, (len(exps), 200), dtype=np.uint64)
low64 = np.array([0, 1, (1 << 41) - 1, 1 << 41, (1 << 41) + 1, (1 << 42) - 1], dtype=np.uint64)
f64_bits = ((exps[:, None, None] << np.uint64(52)) | (mant_hi[:, :, None] << np.uint64(42))
            | low64[None, None, :]).ravel()
f64_bits = np.concatenate([f64_bits, f64_bits | np.uint64(1 << 63),
                           np.array([0x7ff0000000000000, 0x7ff0000000000001, 0x7ff8000000000000,
                                     0xfff0000000000400, 0x7ff0040000000000, 0x40effe0000000000,
                                     0x40effdffffffffff, 0x3e60000000000000, 0x3e60000000000001,
                                     0x0000000000000001, 0x8000000000000000], dtype=np.uint64),
                           rng.integers(0, 1 << 63, 1_000_000, dtype=np.uint64) * np.uint64(2)
                           + rng.integers(0, 2, 1_000_000, dtype=np.uint64)])
f64 = f64_bits.view(np.float64)
with np.errstate(all="ignore"):
    expected_f64_f16 = f64.astype(np.float16)

halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
expected_h32 = halves.astype(np.float32)
expected_h64 = halves.astype(np.float64)

impls = []
for impl in ("portable", "f16c"):
    if run_helper(impl, "f16-f32", halves[:1]) is None:
        print("note: this CPU has no", impl, "path")
        continue
    impls.append(impl)
check("at least the portable path runs", "portable" in impls)

for impl in impls:
    compare("%s float32 -> float16 (%d values)" % (impl, len(f32)),
            run_helper(impl, "f32-f16", f32), expected_f16)
    compare("%s float64 -> float16 (%d values)" % (impl, len(f64)),
            run_helper(impl, "f64-f16", f64), expected_f64_f16)
    compare("%s float16 -> float32 (all 65536)" % impl,
            run_helper(impl, "f16-f32", halves), expected_h32)
    compare("%s float16 -> float64 (all 65536)" % impl,
            run_helper(impl, "f16-f64", halves), expected_h64)

# ---- files written by the float16 codec load in numpy -------------------
if os.path.exists(saver):
    with tempfile.TemporaryDirectory() as tmp:
        for ref in ("float16", "float16(overflow=inf)"):
            out = os.path.join(tmp, "f16.eqx")
            src = os.path.join(tmp, "src.eqx")
            subprocess.run([saver, ref, src, out], check=True)
            with open(src, "rb") as fs, open(out, "rb") as fo:
                n = 0
                while fs.peek(1):
                    a = np.load(fs)
                    b = np.load(fo)
                    n += 1
                    # Records in key order a..h; 'e' (the 5th) is a Python-float
                    # scalar, which float16 leaves to npy.
                    if n != 5 and (a.dtype.kind == "f" or a.dtype == np.dtype("V2")):
                        if a.dtype == np.dtype("V2"):   # bfloat16: widen by hand
                            a = (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
                        with np.errstate(all="ignore"):
                            want = a.astype(np.float16)
                        check("%s record %d is float16" % (ref, n), b.dtype == np.float16,
                              str(b.dtype))
                        check("%s record %d equals astype(float16)" % (ref, n),
                              b.shape == want.shape
                              and b.view(np.uint16).tobytes() == want.view(np.uint16).tobytes())
                    else:
                        check("%s record %d kept as is" % (ref, n),
                              a.dtype == b.dtype and a.tobytes() == b.tobytes())
                check("%s: whole file read" % ref, fo.read() == b"" and n > 0)
else:
    check("codec-save helper built", False, saver)

print("%d passed, %d failed" % (checks - failures, failures))
sys.exit(1 if failures else 0)
