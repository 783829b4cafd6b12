"""blosc records cross between C and Python: the Python codec module
(python/leafio/codecs/blosc.py, on python3-blosc) reads what leafio wrote,
and leafio loads what the module wrote, every dtype, 0-d, empty, big-endian,
Fortran-ordered and multi-chunk arrays among them."""
import io
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

srcdir = os.environ.get("LF_TEST_SRCDIR", ".")
builddir = os.environ.get("LF_TEST_BUILDDIR", ".")
topbuild = os.environ.get("LF_TOP_BUILDDIR", "..")
sys.path.insert(0, os.path.join(srcdir, "..", "python"))
from leafio.codecs import blosc as codec  # noqa: E402
leafio = os.path.join(topbuild, "tools", "leafio")

failures = checks = 0


def check(name, ok, detail=""):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
    print("ok:" if ok else "FAIL:", name, detail)


def same(a, b):
    return (a.shape == b.shape and a.dtype.newbyteorder("=") == b.dtype.newbyteorder("=")
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def refused(data):
    try:
        codec.read(io.BytesIO(data))
    except ValueError as e:
        return str(e)
    return None


check("the module names its codec", codec.NAME == "blosc")
rng = np.random.default_rng(16)
with tempfile.TemporaryDirectory() as tmp:
    # C writes, Python reads: the same values numpy reads from the npy copy.
    for ref in ("blosc", "blosc(shuffle=bit, compressor=lz4, clevel=5)"):
        src, out = os.path.join(tmp, "src.eqx"), os.path.join(tmp, "out.eqx")
        subprocess.run([os.path.join(builddir, "codec-save"), ref, src, out], check=True)
        n = 0
        with open(src, "rb") as want, open(out, "rb") as f:
            while f.peek(1):
                got = codec.read(f, None, {})
                check("%s record %d reads in Python" % (ref, n), same(got, np.load(want)))
                n += 1
            check("%s: every record read" % ref, n > 5 and not want.read(1), "%d records" % n)

    # Python writes, C loads (converting to npy, which numpy reads back).
    arrays = [
        (rng.standard_normal(700_000, dtype=np.float32) * 0.02, {"chunk_mb": 1}),
        (np.arange(12, dtype=">f4").reshape(3, 4), {}),
        (np.arange(6, dtype=">i8"), {"shuffle": "bit"}),
        (np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)), {}),
        (np.array(2.5), {}),
        (np.int8(-5), {}),
        (np.zeros((0, 3), dtype=np.int16), {}),
        (np.array([True, False, True]), {"compressor": "lz4"}),
        (rng.standard_normal((5, 7)) + 1j * rng.standard_normal((5, 7)), {"clevel": 9}),
        (np.arange(300, dtype=np.float16), {"shuffle": "none", "compressor": "blosclz"}),
        (np.arange(60, dtype=np.uint64).reshape(3, 4, 5), {"blocksize": 4096}),
        (np.arange(130, dtype=np.complex64), {}),
    ]
    path, back = os.path.join(tmp, "py.eqx"), os.path.join(tmp, "back.eqx")
    with open(path, "wb") as f:
        for value, options in arrays:
            codec.write(f, value, options)
    inspect = subprocess.run([leafio, "inspect", "--spec", "blosc", path], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    rows = [line for line in inspect if re.match(r"\s*\d+\s+\d+\s+\d+\s+blosc\s+array\s", line)]
    check("leafio describes every record Python wrote", len(rows) == len(arrays),
          "\n".join(inspect))
    subprocess.run([leafio, "convert", "--quiet", "--input-spec", "blosc", "--spec", "npy",
                    path, back], check=True)
    with open(back, "rb") as f:
        for i, (value, options) in enumerate(arrays):
            got = np.load(f)
            check("C loads Python's record %d (%s %s)" % (i, np.asarray(value).dtype,
                                                         np.shape(value)),
                  same(got, np.asarray(value)))
    with open(path, "rb") as f:
        for i, (value, options) in enumerate(arrays):
            check("Python reads its own record %d" % i, same(codec.read(f), np.asarray(value)))

    # Refusals: a cut record, another magic, a chunk that lies.
    data = open(path, "rb").read()
    first = io.BytesIO()
    codec.write(first, np.arange(1000, dtype=np.float32), {})
    record = first.getvalue()
    check("a cut record is refused", "expected" in (refused(record[:-5]) or ""))
    check("another magic is refused", "not a blosc record" in (refused(b"\x93NUMPY" + record[6:]) or ""))
    lying = bytearray(record)
    lying[40 + 128 + 4] ^= 0x10    # the chunk's raw size
    check("a chunk that lies about its size is refused", "chunk 0" in (refused(bytes(lying)) or ""))

print("%d passed, %d failed" % (checks - failures, failures))
sys.exit(1 if failures else 0)
