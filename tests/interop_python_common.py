"""Shared by the interop-python-* tests: where things are, the test tree,
and running the C side."""

import collections
import os
import subprocess
import sys
import tempfile

SRCDIR = os.environ["LF_TEST_SRCDIR"]
BUILDDIR = os.environ["LF_TEST_BUILDDIR"]
TOP_BUILDDIR = os.environ["LF_TOP_BUILDDIR"]
sys.path.insert(0, os.path.join(SRCDIR, "..", "python"))
sys.path.insert(0, os.path.join(SRCDIR, "..", "tools"))

# Never skipped: numpy and zstandard are required, a missing one fails.
import numpy as np  # noqa: E402
import zstandard  # noqa: E402,F401

import leafio  # noqa: E402

CLI = os.path.join(TOP_BUILDDIR, "tools", "leafio")
CONVERT = os.path.join(BUILDDIR, "interop-python-convert")

Pair = collections.namedtuple("Pair", ["weight", "bias"])


def make_tree():
    """Every leaf kind and dtype the codecs treat differently."""
    rng = np.random.default_rng(5)
    f64 = np.array([0.1, -2.5, 65504.0, 65519.99, 1e-7, 3.0, np.nan, -np.inf, 1e300])
    return {
        "a": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "b": f64,
        "bf": np.array([0x3F80, 0x4049, 0xC2F7, 0x7F80, 0x0001], dtype=np.uint16).view("V2"),
        "big": (rng.integers(-400, 400, (3 << 20) // 4) * 0.125).astype(np.float32),
        "count": 7,
        "empty": np.zeros((0, 3), dtype=np.float32),
        "flag": True,
        "i": np.array([1, -2, 3, 70000], dtype=np.int32),
        "layers": [Pair(rng.standard_normal((40, 30)).astype(np.float32), np.zeros(30)),
                   Pair(rng.standard_normal((30, 2)).astype(np.float64), np.ones(2))],
        "lr": 0.001,
        "name": "an opaque leaf",
        "none": None,
        "s16": np.float32(1.5),
        "t": (np.arange(5, dtype=np.uint8), 2j, np.array(7, dtype=np.int64)),
        "mid": rng.standard_normal(20000).astype(np.float32),
    }


def run(args, ok=True):
    """Runs a C program; returns (status, stdout, stderr); fails the test on
    an unexpected status."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if ok is not None and (p.returncode == 0) != ok:
        sys.exit(f"FAIL: {' '.join(args)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p.returncode, p.stdout, p.stderr


def tmpdir():
    return tempfile.mkdtemp(prefix="leafio-python.", dir=os.environ.get("TMPDIR"))


def leaves(tree):
    """(path, leaf) pairs in leaf order, as the package walks them."""
    out = []
    leafio.tree.walk(tree, "npy", lambda p, leaf, ref: out.append((p, leaf)))
    return out


def same(a, b):
    """Equal values, dtype and shape (NaN equals NaN; scalars by type and value)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind == "V":
            return a.tobytes() == b.tobytes()
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, np.floating)) and np.isnan(a):
        return bool(np.isnan(b))
    return a == b


def check_tree(got, want, what):
    g, w = leaves(got), leaves(want)
    if [p for p, _ in g] != [p for p, _ in w]:
        sys.exit(f"FAIL: {what}: paths {[p for p, _ in g]} != {[p for p, _ in w]}")
    for (path, x), (_, y) in zip(g, w):
        if not same(x, y):
            sys.exit(f"FAIL: {what}: {path}: {x!r} != {y!r}")


def expect_error(what, needles, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except leafio.LeafioError as e:
        missing = [n for n in needles if n not in str(e)]
        if missing:
            sys.exit(f"FAIL: {what}: the error lacks {missing}: {e}")
        return str(e)
    sys.exit(f"FAIL: {what}: no error")
