"""Half of interop-skeleton.sh: writes a numpy tree with tools/eqx_skeleton.py
and checks what C loaded from it through the skeleton.

    interop-skeleton.py write DIR            DIR/model.eqx, DIR/model.skeleton.json
    interop-skeleton.py compare DIR LOADED   LOADED: the C helper's output
    interop-skeleton.py wrong-skeleton DIR   DIR/wrong.skeleton.json (one shape off)
"""
import json
import os
import sys
from collections import namedtuple

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean (and read-only in distcheck)
sys.path.insert(0, os.path.join(os.environ["LF_TEST_SRCDIR"], "..", "tools"))
import eqx_skeleton  # noqa: E402

Point = namedtuple("Point", ["x", "y"])


def make_tree():
    rng = np.random.default_rng(1234)
    return {
        "layers": [
            {"weight": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5),
             "bias": np.array([1.5, -2.0], dtype=np.float64)},
            {"weight": np.arange(12, dtype=np.int16).reshape(3, 4) - 5,
             "bias": np.array([True, False, True])},
        ],
        "meta": (3, 2.5, True, complex(1, -2), None, "not saved",
                 np.float32(0.25), np.uint8(200), -(2**40)),
        "point": Point(np.zeros((0, 3), dtype=np.complex64), np.array(7, dtype=np.uint64)),
        "it's": np.array([[1, -2]], dtype=np.int8),
        "noise": rng.standard_normal((5, 7)).astype(np.float32),
        "half": np.array([0.1, 65504, -0.0, np.inf], dtype=np.float16),
        "wide": {"u32": np.array([4294967295, 0], dtype=np.uint32),
                 "i64": np.array([-(2**63), 2**63 - 1], dtype=np.int64),
                 "u16": np.array([[65535]], dtype=np.uint16),
                 "i32": np.arange(-3, 3, dtype=np.int32),
                 "c128": np.array([1 + 2j, np.nan], dtype=np.complex128)},
        "empty": [],
        "nothing": None,
    }


def keystr_key(key):
    return "[" + repr(key) + "]"


def expected_lines(tree, path=""):
    """What the C helper prints, leaf by leaf, in JAX's order."""
    if tree is None:
        return
    if isinstance(tree, tuple) and hasattr(type(tree), "_fields"):
        for field in tree._fields:
            yield from expected_lines(getattr(tree, field), path + "." + field)
    elif isinstance(tree, (tuple, list)):
        for i, x in enumerate(tree):
            yield from expected_lines(x, f"{path}[{i}]")
    elif isinstance(tree, dict):
        for k in sorted(tree):
            yield from expected_lines(tree[k], path + keystr_key(k))
    elif isinstance(tree, np.ndarray):
        a = np.array(tree, order="C")  # not ascontiguousarray: it makes 0-d arrays 1-d
        shape = "(" + ", ".join(str(d) for d in a.shape) + ("," if a.ndim == 1 else "") + ")"
        yield f"{path}\tarray\t{a.dtype.name}\t{shape}\t{a.tobytes().hex()}"
    elif isinstance(tree, (bool, int, float, complex, np.generic)):
        # Python scalars load as bool/int64/float64/complex128 (like's type).
        value = np.asarray(tree)
        if isinstance(tree, bool):
            value = value.astype(np.bool_)
        yield f"{path}\tscalar\t{value.dtype.name}\t\t{value.tobytes().hex()}"
    else:
        yield f"{path}\topaque\t{type(tree).__name__}"


def main():
    command, directory = sys.argv[1], sys.argv[2]
    eqx = os.path.join(directory, "model.eqx")
    tree = make_tree()
    if command == "write":
        written, skeleton = eqx_skeleton.save(eqx, tree)
        assert written == eqx and skeleton == os.path.join(directory, "model.skeleton.json")
        # The file is exactly one np.save a saved leaf: np.load reads it back.
        size, n = os.path.getsize(eqx), 0
        with open(eqx, "rb") as f:
            while f.tell() < size:
                np.load(f, allow_pickle=False)
                n += 1
        saved = [line for line in expected_lines(tree) if "\topaque\t" not in line]
        assert n == len(saved) == 21, (n, len(saved))
        return 0
    if command == "wrong-skeleton":
        with open(os.path.join(directory, "model.skeleton.json")) as f:
            skeleton = json.load(f)
        skeleton["layers"][0]["weight"]["shape"] = [3, 2]
        with open(os.path.join(directory, "wrong.skeleton.json"), "w") as f:
            json.dump(skeleton, f)
        return 0
    if command == "compare":
        with open(sys.argv[3]) as f:
            got = f.read().splitlines()
        want = list(expected_lines(tree))
        if got != want:
            for i in range(max(len(got), len(want))):
                g = got[i] if i < len(got) else "<missing>"
                w = want[i] if i < len(want) else "<missing>"
                if g != w:
                    print(f"leaf {i}: C loaded\n  {g}\nPython saved\n  {w}", file=sys.stderr)
                    break
            print(f"FAIL: {len(got)} leaves loaded, {len(want)} expected", file=sys.stderr)
            return 1
        print(f"{len(want)} leaves agree")
        return 0
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    sys.exit(main())
