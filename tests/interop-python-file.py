"""Random access, skeletons and errors of the Python package against the C
library (run by interop-python-file.sh)."""

import io
import json
import os
import sys
import warnings

from interop_python_common import (BUILDDIR, CONVERT, check_tree, expect_error, leafio,
                                   leaves, make_tree, np, run, same, tmpdir)


def check_random_access(d, tree, skel):
    """C's files with a manifest open without a like; npy data aligned for
    its dtype comes back as a memmap, the rest decoded."""
    base = os.path.join(d, "base.eqx")
    leafio.save(base, tree)
    for spec, mapped in (("npy(align=64)", True), ("npy", None), ("compressed", False)):
        c = os.path.join(d, "c.eqx")
        run([CONVERT, skel, base, "npy", c, spec])
        with leafio.open(c) as f:
            assert f.from_manifest
            for path, want in leaves(tree):
                if leafio.tree.leaf_kind(want) == "opaque":
                    got = f[path]
                    assert isinstance(got, leafio.Opaque), (path, got)
                    continue
                got = f[path]
                if isinstance(want, np.ndarray) and want.size and mapped is not None:
                    if isinstance(got, np.memmap) != mapped:
                        sys.exit(f"FAIL: {spec}: {path} mapped={isinstance(got, np.memmap)}")
                if not same(np.asarray(got) if isinstance(want, np.ndarray) else got, want):
                    sys.exit(f"FAIL: open({spec})[{path}]: {got!r} != {want!r}")
            check_tree(f.load(), leafio.load(c, leafio.from_skeleton(open(skel).read()), spec),
                       f"File.load of {spec}")
        print(f"ok random access, {spec}")

    # Without a manifest: indexed from a like tree or from skeleton text.
    py = os.path.join(d, "py.eqx")
    leafio.save(py, tree, "compressed(inner=float16)")
    with leafio.open(py, like=tree, spec="compressed(inner=float16)") as f:
        assert not f.from_manifest
        assert same(f["['i']"], tree["i"]) and f["['count']"] == 7
    aligned = os.path.join(d, "aligned.eqx")
    leafio.save(aligned, tree, "npy(align=64)")
    with leafio.open(aligned, like=open(skel).read(), spec="npy(align=64)") as f:
        for key in ("mid", "a", "i", "empty"):
            got = f[f"[{key!r}]"]
            assert isinstance(got, np.memmap) == (tree[key].size > 0), key
            assert same(np.array(got), tree[key]), key
    expect_error("open without manifest or like", ["no manifest", "give a like"],
                 leafio.open, py)
    expect_error("a leaf that is not there", ["no leaf at \"['nope']\"", "['a']"],
                 lambda: leafio.open(base, like=tree)["['nope']"])
    print("ok random access without a manifest")


def check_manifest_errors(d, tree, skel):
    base, c = os.path.join(d, "base.eqx"), os.path.join(d, "m.eqx")
    run([CONVERT, skel, base, "npy", c, "npy"])
    data = bytearray(open(c, "rb").read())
    entry = [e for e in leafio.open(c).entries if e.path == "['i']"][0]
    data[entry.offset + entry.size - 1] ^= 0xFF               # one byte of ['i']'s data
    open(c, "wb").write(data)
    with leafio.open(c) as f:
        assert same(f["['a']"], tree["a"])                    # other leaves still read
        if leafio.checksum.AVAILABLE:
            expect_error("a corrupt record", ["['i']", "checksum", f"offset {entry.offset}"],
                         f.read, "['i']")
    # A stale manifest (another size) is refused, or passed over given a like.
    open(c, "ab").write(b"x")
    expect_error("a stale manifest", ["stale"], leafio.open, c)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        leafio.open(c, like=tree).close()
    assert any("stale" in str(w.message) for w in caught), "no warning for a stale manifest"
    print("ok manifest checks")


def check_compressed_errors(d, tree):
    p = os.path.join(d, "z.eqx")
    leafio.save(p, {"x": np.arange(100.0)}, "compressed")
    raw = bytearray(open(p, "rb").read())
    bad = bytearray(raw)
    bad[32] ^= 1                                              # the stored checksum
    open(p, "wb").write(bad)
    if leafio.checksum.AVAILABLE:
        expect_error("compressed checksum", ["['x']", "checksum"], leafio.load, p,
                     {"x": np.zeros(100)}, "compressed")
    open(p, "wb").write(raw[:-5])
    expect_error("truncated compressed record", ["['x']", "ends early"], leafio.load, p,
                 {"x": np.zeros(100)}, "compressed")
    expect_error("npy read as compressed", ["not a compressed record"], leafio.load,
                 io.BytesIO(_npy(np.arange(3.0))), [np.zeros(3)], "compressed")
    print("ok compressed record checks")


def _npy(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def check_like_errors(d, tree):
    p = os.path.join(d, "w.eqx")
    leafio.save(p, tree)
    wrong = dict(tree, layers=[tree["layers"][0]._replace(weight=np.zeros((30, 40), np.float32)),
                               tree["layers"][1]])
    expect_error("wrong shape", ["['layers'][0].weight",
                                 "expected float32 array of shape (30, 40), found float32 "
                                 "array of shape (40, 30)"], leafio.load, p, wrong)
    expect_error("wrong dtype", ["['i']", "expected int64 array of shape (4,), found int32"],
                 leafio.load, p, dict(tree, i=np.zeros(4, np.int64)))
    expect_error("fewer leaves", ["bytes left after the last leaf"], leafio.load, p,
                 {k: v for k, v in tree.items() if k != "t"})
    expect_error("more leaves", ["['z']", "ends early"], leafio.load, p,
                 dict(tree, z=np.zeros(3)))
    expect_error("spec not a prefix", ["not a prefix", "['layers']"], leafio.load, p, tree,
                 dict({k: "npy" for k in tree}, layers=["npy"]))
    expect_error("unknown codec", ["unknown codec 'nope'", "float16"], leafio.save, p, tree,
                 "nope")
    expect_error("bad reference", ["expected ',' or ')'"], leafio.save, p, tree,
                 "compressed(level=3 inner=npy)")
    expect_error("unknown option", ["codec 'float16'", "unknown option 'level'"],
                 leafio.save, p, tree, "float16(level=3)")
    # A codec module that cannot be imported fails only when it is used.
    leafio.codecs.MODULES["missing-example"] = "missing_example_module"
    try:
        leafio.save(io.BytesIO(), tree)
        expect_error("missing module", ["codec 'missing-example' is not available"],
                     leafio.save, io.BytesIO(), tree, "missing-example")
    finally:
        del leafio.codecs.MODULES["missing-example"]
    print("ok errors name the leaf")


def check_skeleton(d, tree):
    """leafio.skeleton is what C loads with; from_skeleton gives a like."""
    p, skel = os.path.join(d, "s.eqx"), os.path.join(d, "s.skeleton.json")
    leafio.save(p, tree)
    open(skel, "w").write(leafio.skeleton(tree))
    _, out, _ = run([os.path.join(BUILDDIR, "interop-skeleton-load"), p, skel])
    lines = [line.split("\t") for line in out.splitlines()]
    want = leaves(tree)
    if [l[0] for l in lines] != [p_ for p_, _ in want]:
        sys.exit(f"FAIL: C's paths {[l[0] for l in lines]} != {[p_ for p_, _ in want]}")
    for line, (path, leaf) in zip(lines, want):
        if line[1] in ("array", "scalar"):
            data = leafio.npyfmt.leaf_array(leaf)
            if line[4] != data.tobytes().hex():
                sys.exit(f"FAIL: C loaded {path} as {line[4][:40]}..., expected {data.tobytes().hex()[:40]}")
    like = leafio.from_skeleton(open(skel).read())
    assert json.loads(leafio.skeleton(like)) == json.loads(leafio.skeleton(tree)), \
        "skeleton -> like -> skeleton changed"
    loaded = leafio.load(p, like)
    for (path, got), (_, leaf) in zip(leaves(loaded), want):
        if leafio.tree.leaf_kind(leaf) != "opaque" and not same(got, leaf):
            sys.exit(f"FAIL: loading with a skeleton: {path}: {got!r} != {leaf!r}")
    print("ok skeleton round trip")


def main():
    d = tmpdir()
    tree = make_tree()
    skel = os.path.join(d, "base.skeleton.json")
    open(skel, "w").write(leafio.skeleton(tree))
    check_random_access(d, tree, skel)
    check_manifest_errors(d, tree, skel)
    check_compressed_errors(d, tree)
    check_like_errors(d, tree)
    check_skeleton(d, tree)
    print("interop-python-file: ok")


if __name__ == "__main__":
    main()
