"""The Python package and the C library write the same bytes and read each
other's files, for every built-in codec (run by interop-python-codecs.sh).

For each spec: C converts an Equinox-style file (np.save a leaf) to the
spec, Python saves the same tree with it, the two files must be identical;
Python loads C's file, C loads Python's (and re-saves it with npy, which
must equal Python's npy save of the expected values); the CLI inspects it.
"""

import json
import os
import sys

from interop_python_common import (CLI, CONVERT, Pair, check_tree, expect_error, leafio,
                                   leaves, make_tree, np, run, same, tmpdir)
import eqx_skeleton

NARROWED = ("float32", "float64", "bfloat16")


def through_float16(leaf):
    name = leafio.npyfmt.dtype_name(leaf.dtype)
    if name == "bfloat16":
        f16 = leafio.codecs.get("float16")
        return f16.float32_to_bfloat16(f16.bfloat16_to_float32(leaf).astype(np.float16)
                                       .astype(np.float32))
    with np.errstate(over="ignore"):
        return leaf.astype(np.float16).astype(leaf.dtype)


def expected(tree, spec):
    """The tree a load gives back: float16 rounds narrowed arrays."""
    def visit(path, leaf, ref):
        uses_float16 = "float16" in str(ref)
        if uses_float16 and isinstance(leaf, np.ndarray) and \
                leafio.npyfmt.dtype_name(leaf.dtype) in NARROWED:
            return through_float16(leaf)
        return leaf
    return leafio.tree.rebuild(tree, leafio._spec(spec), visit)


def spec_json(spec):
    """A Python spec as the C library's JSON spec text."""
    def obj(s):
        if s is None or isinstance(s, str):
            return s
        if hasattr(type(s), "_fields"):
            return dict({"$struct": type(s).__name__}, **{k: obj(getattr(s, k))
                                                          for k in s._fields})
        if isinstance(s, tuple):
            return {"$tuple": [obj(x) for x in s]}
        if isinstance(s, list):
            return [obj(x) for x in s]
        return {k: obj(v) for k, v in s.items()}
    return spec if isinstance(spec, str) else json.dumps(obj(spec))


def files_equal(a, b, what):
    x, y = open(a, "rb").read(), open(b, "rb").read()
    if x != y:
        at = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), min(len(x), len(y)))
        sys.exit(f"FAIL: {what}: {a} ({len(x)} bytes) and {b} ({len(y)} bytes) differ "
                 f"from byte {at}")


def check_spec(d, tree, spec, skel):
    text = spec_json(spec)
    c, py, back = (os.path.join(d, n) for n in ("c.eqx", "py.eqx", "back.eqx"))
    for f in (c, py, back):
        if os.path.exists(f):
            os.unlink(f)
    run([CONVERT, skel, os.path.join(d, "base.eqx"), "npy", c, text])
    leafio.save(py, tree, spec)
    files_equal(c, py, f"C and Python saves with {text}")

    want = expected(tree, spec)
    check_tree(leafio.load(c, tree, spec), want, f"Python loading C's {text} file")
    with leafio.open(c) as f:          # indexed from C's manifest
        assert f.from_manifest, "the manifest was not used"
        for entry in f.entries:
            if entry.offset is None or entry.kind != "array":
                continue
            got = f[entry.path]
            (_, w), = [(p, x) for p, x in leaves(want) if p == entry.path]
            if not same(np.array(got), w):
                sys.exit(f"FAIL: open({text})[{entry.path}] differs")

    # C loads Python's file; re-saved with npy it is Python's npy save of the
    # values.  C cannot load arrays a spec skips into a skeleton's abstract
    # arrays, so those files are read without one: scalar records only.
    mine = os.path.join(d, "mine.eqx")
    if "skip-arrays" in text:
        run([CLI, "convert", "-q", "--input-spec", text, "--spec", "npy", py, back])
        scalars = [leaf for _, leaf in leaves(want)
                   if leafio.tree.leaf_kind(leaf) == "scalar"]
        leafio.save(mine, scalars)
    else:
        run([CONVERT, skel, py, text, back, "npy"])
        leafio.save(mine, want)
    files_equal(back, mine, f"C loading Python's {text} file")

    # The CLI lists Python's records where C's manifest put them.
    offsets = [e.offset for e in leafio.open(c).entries if e.offset is not None]
    _, out, _ = run([CLI, "inspect", "--json", "--like", skel, "--spec", text, py])
    listed = [r["offset"] for r in json.loads(out) if r.get("offset") is not None]
    if listed != offsets:
        sys.exit(f"FAIL: leafio inspect lists records at {listed} in {py}, expected {offsets}")
    run([CLI, "diff", "--brief", c, py])
    print(f"ok {text}")


def main():
    d = tmpdir()
    tree = make_tree()
    # The default save is Equinox's file (jnp.save a leaf), and the skeleton
    # writers agree (eqx_skeleton.py knows bfloat16 only from ml_dtypes).
    base, skel = os.path.join(d, "base.eqx"), os.path.join(d, "base.skeleton.json")
    with open(base, "wb") as f:
        for _, leaf in leaves(tree):
            if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "V":
                leafio.npyfmt.write(f, leaf)     # '<V2' as jnp.save writes bfloat16
            elif leafio.tree.leaf_kind(leaf) != "opaque":
                np.save(f, leaf)
    open(skel, "w").write(leafio.skeleton(tree))
    leafio.save(os.path.join(d, "default"), tree)
    files_equal(base, os.path.join(d, "default.eqx"), "leafio.save and np.save per leaf")
    without_bf = {k: v for k, v in tree.items() if k != "bf"}
    assert leafio.skeleton(without_bf) == eqx_skeleton.skeleton(without_bf)

    spec_tree = {k: "npy" for k in tree}
    spec_tree.update(none=None, a="float16", big="compressed", t="compressed(inner=float16)",
                     layers=[Pair("float16(overflow=inf)", "compressed(level=5)"), "cast"])
    for spec in ["npy", "npy(align=128)", "skip-arrays", "float16",
                 "float16(inner=npy(align=64))", "compressed",
                 "compressed(level=19, inner=float16)", "compressed(level=-3, inner=skip-arrays)",
                 "cast", "cast(lossy=allow, inner=compressed(level=1))", "blosc",
                 "blosc(shuffle=bit, clevel=5, compressor=lz4)", spec_tree]:
        check_spec(d, tree, spec, skel)
    check_errors(d, tree, skel)
    check_cast(d, tree)
    print("interop-python-codecs: ok")


def check_errors(d, tree, skel):
    """float16(overflow=error) refuses 1e300 in both, naming the leaf."""
    out = os.path.join(d, "overflow.eqx")
    expect_error("float16(overflow=error)", ["['b']", "element 8 (1e+300)"], leafio.save,
                 out, tree, "float16(overflow=error)")
    assert not os.path.exists(out), "a failed save left a file"
    _, _, err = run([CONVERT, skel, os.path.join(d, "base.eqx"), "npy", out,
                     "float16(overflow=error)"], ok=False)
    if "['b']" not in err or "overflows float16" not in err:
        sys.exit(f"FAIL: C's overflow error: {err}")


def check_cast(d, tree):
    """cast loads into another dtype, exactly or (lossy=allow) rounding."""
    def retype(source, target):
        def visit(path, leaf, ref):
            if isinstance(leaf, np.ndarray) and leaf.dtype == source:
                with np.errstate(over="ignore"):
                    return leaf.astype(target)
            return leaf
        return leafio.tree.rebuild(tree, "npy", visit)
    wide, narrowed = retype(np.float32, np.float64), retype(np.float64, np.float32)
    base = os.path.join(d, "base.eqx")
    for like, spec, name in ((wide, "cast", "wide"),
                             (narrowed, "cast(lossy=allow)", "narrow")):
        skel = os.path.join(d, name + ".skeleton.json")
        open(skel, "w").write(leafio.skeleton(like))
        want = like
        check_tree(leafio.load(base, like, spec), want, f"Python {spec} into {name}")
        back, mine = os.path.join(d, name + ".eqx"), os.path.join(d, name + "-py.eqx")
        run([CONVERT, skel, base, spec, back, "npy"])
        leafio.save(mine, want)
        files_equal(back, mine, f"C {spec} into {name}")
    # Exact casts refuse 0.1 into float32, naming the leaf and the element.
    expect_error("cast(lossy=deny) of 0.1", ["['b']", "element 0 (0.1)"], leafio.load,
                 base, narrowed, "cast")
    _, _, err = run([CONVERT, os.path.join(d, "narrow.skeleton.json"), base, "cast",
                     os.path.join(d, "no.eqx"), "npy"], ok=False)
    if "['b']" not in err or "does not fit float32 exactly" not in err:
        sys.exit(f"FAIL: C's cast error: {err}")


if __name__ == "__main__":
    main()
