"""Interop tests of the `leafio` command-line tool against numpy.

Run by test-cli.sh with the Python configure found ($LF_PYTHON).  Each
test_* function runs the built tool on files numpy wrote and checks the
results with numpy; any failure raises and the script exits non-zero.
Tests of the float16/compressed codecs run when those plugins are built.
"""

import json
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TOP = os.environ.get("LF_TOP_BUILDDIR", "..")
LEAFIO = os.path.join(TOP, "tools", "leafio")
# libtool's wrapper script costs a shell start per run; run the real binary
# against the build tree's library when it is there.
if os.path.exists(os.path.join(TOP, "tools", ".libs", "leafio")):
    LEAFIO = os.path.join(TOP, "tools", ".libs", "leafio")
    os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(
        [os.path.join(TOP, "core", ".libs")] +
        [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p])
TESTS_BUILDDIR = os.environ.get("LF_TEST_BUILDDIR", os.path.join(TOP, "tests"))
TMP = tempfile.mkdtemp(prefix="leafio-cli-")
RNG = np.random.default_rng(1234)


def path(*names):
    return os.path.join(TMP, *names)


def run(args, rc=0, env=None, stdin=None):
    """Runs leafio with `args`; asserts the exit status is `rc`."""
    proc = subprocess.run([LEAFIO] + list(args), capture_output=True, text=True,
                          env=env, stdin=stdin)
    if proc.returncode != rc:
        raise AssertionError(
            f"leafio {' '.join(args)}: exit {proc.returncode}, expected {rc}\n"
            f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc.stdout, proc.stderr


def codecs():
    out, _ = run(["codecs", "--json"])
    return {c["name"] for c in json.loads(out)}


def save_eqx(filename, arrays):
    """What Equinox writes: np.save of each array, one after another.
    Returns the offset of each record and the end."""
    offsets = []
    with open(filename, "wb") as f:
        for a in arrays:
            offsets.append(f.tell())
            np.save(f, a)
        offsets.append(f.tell())
    return offsets


def c_little_endian(a):
    """`a` as a C-ordered little-endian array (ascontiguousarray would make
    0-d arrays 1-d)."""
    return a.astype(a.dtype.newbyteorder("<"), order="C")


def random_array(dtype, shape):
    dtype = np.dtype(dtype)
    if not dtype.isnative:
        return random_array(dtype.newbyteorder("="), shape).astype(dtype)
    if dtype.kind == "b":
        return RNG.integers(0, 2, size=shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return RNG.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    if dtype.kind == "c":
        return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)
    return (RNG.standard_normal(shape) * 100).astype(dtype)


def assert_error(stderr, filename, record=None, offset=None):
    """The message names the file and, when given, the record and offset."""
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("leafio: "), stderr
    assert os.path.basename(filename) in line, (filename, stderr)
    if record is not None:
        want = f"record {record}"
        if offset is not None:
            want += f" (offset {offset})"
        assert want in line, (want, stderr)


def no_temporaries(directory):
    left = [n for n in os.listdir(directory) if n.startswith(".")]
    assert not left, f"temporary files left in {directory}: {left}"


def plugin_env(*names):
    """The environment with copies of the test plugins `names` (built in
    tests/plugins/.libs) in a directory of their own, added to
    LEAFIO_PLUGIN_PATH: custom .so codecs next to the built-in ones."""
    directory = path("plugins-" + "-".join(names))
    os.makedirs(directory, exist_ok=True)
    for name in names:
        so = os.path.join(TESTS_BUILDDIR, "plugins", ".libs", name + ".so")
        assert os.path.exists(so), f"{so} not built"
        shutil.copy(so, directory)
    dirs = [d for d in os.environ.get("LEAFIO_PLUGIN_PATH", "").split(os.pathsep) if d]
    return dict(os.environ, LEAFIO_PLUGIN_PATH=os.pathsep.join(dirs + [directory]))


def max_rss_kib(args, env=None):
    """Runs leafio with `args` in a fresh process tree; returns (exit status,
    stderr, the peak RSS of leafio in KiB)."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "sys.stderr.write(p.stderr)\n"
             "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    proc = subprocess.run([sys.executable, "-c", probe, LEAFIO] + list(args),
                          capture_output=True, text=True, env=env)
    rc, rss = proc.stdout.split()
    return int(rc), proc.stderr, int(rss)


# ---------------------------------------------------------------------------

COMMANDS = ["codecs", "inspect", "skeleton", "unpack", "pack", "convert", "diff"]


def test_help_and_usage():
    out, _ = run(["--help"])
    for name in COMMANDS:
        assert name in out, name
    for name in COMMANDS:
        out, _ = run([name, "--help"])
        assert f"leafio {name}" in out and "Usage" in out, out
        out2, _ = run(["help", name])
        assert out2 == out
    out, _ = run(["--version"])
    assert out.startswith("leafio "), out
    _, err = run(["frobnicate"], rc=2)
    assert "unknown command" in err
    _, err = run([], rc=2)
    _, err = run(["inspect"], rc=2)
    assert "missing" in err
    _, err = run(["diff", "a", "b", "c"], rc=2)
    assert "too many" in err
    _, err = run(["inspect", "--no-such-option", "x"], rc=2)
    assert "leafio:" in err
    _, err = run(["convert", "a", "b"], rc=2)
    assert "--spec" in err
    _, err = run(["diff", "--atol", "abc", "a", "b"], rc=2)
    assert "--atol" in err


def test_codecs():
    out, _ = run(["codecs"])
    assert re.search(r"^npy\s+\S+npy\.so\s+\S", out, re.M), out
    listed = json.loads(run(["codecs", "--json"])[0])
    npy = [c for c in listed if c["name"] == "npy"][0]
    assert npy["plugin"].endswith("npy.so") and npy["description"], npy
    names = [c["name"] for c in listed]
    assert names == sorted(names)
    # No plugins at all: an empty list, not a crash.
    env = dict(os.environ, LEAFIO_PLUGIN_PATH=path("no-plugins-here"))
    out, err = run(["codecs", "--json"], env=env)
    assert json.loads(out) == []


# The pack matrix: every dtype numpy and leafio share, shapes of every rank
# (including empty ones and one whose header needs numpy's growth spaces),
# written C-ordered little-endian, big-endian, Fortran-ordered, both, and as
# npy versions 2.0 and 3.0.
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float16", "float32", "float64", "complex64", "complex128"]
SHAPES = [(), (1,), (7,), (0,), (2, 3), (3, 1), (4, 0, 2), (2, 3, 4), (1, 2, 1, 3, 1, 2),
          (1,) * 20, (0, 1000000, 1000000, 1000), (123456,)]


def matrix_arrays():
    arrays = []
    for i, dtype in enumerate(DTYPES):
        for shape in SHAPES:
            if int(np.prod(shape)) > 5000 and (i % 4) != 0:
                continue  # keep the big 1-d case for a few dtypes only
            arrays.append(random_array(dtype, shape))
    # Special float values survive the trip bit for bit.
    arrays.append(np.array([np.nan, -np.inf, np.inf, -0.0, 1e-45], dtype=np.float32))
    return arrays


def write_variant(directory, arrays, variant):
    os.makedirs(directory, exist_ok=True)
    files = []
    for i, a in enumerate(arrays):
        b = a
        if "be" in variant:
            b = b.astype(b.dtype.newbyteorder(">"))
        if "fortran" in variant and b.ndim > 0:  # asfortranarray makes 0-d arrays 1-d
            b = np.asfortranarray(b)
        name = os.path.join(directory, f"a{i:03d}.npy")
        with open(name, "wb") as f:
            if variant == "v2":
                np.lib.format.write_array(f, b, version=(2, 0))
            elif variant == "v3":
                np.lib.format.write_array(f, b, version=(3, 0))
            else:
                np.save(f, b)
        files.append(name)
    return files


def test_pack_byte_identical():
    arrays = matrix_arrays()
    expected = path("pack-expected.eqx")
    save_eqx(expected, [c_little_endian(a)
                        for a in arrays])
    want = open(expected, "rb").read()
    for variant in ["c", "be", "fortran", "fortran-be", "v2", "v3"]:
        files = write_variant(path("pack-" + variant), arrays, variant)
        if variant == "fortran":
            # numpy really wrote Fortran-ordered records for the 2-d+ arrays.
            header = open(files[SHAPES.index((2, 3))], "rb").read(128)
            assert b"'fortran_order': True" in header
        out = path(f"packed-{variant}.eqx")
        run(["pack", out] + files)
        got = open(out, "rb").read()
        assert got == want, f"pack of the {variant} inputs differs from np.save"
        # And Python reads it back with np.load, one record after another.
        with open(out, "rb") as f:
            for a in arrays:
                b = np.load(f)
                assert b.dtype == a.dtype.newbyteorder("=") and b.shape == a.shape
                assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    no_temporaries(TMP)


def test_pack_suffix_and_errors():
    a = path("one.npy")
    np.save(a, np.arange(3))
    run(["pack", path("nosuffix"), a])
    assert os.path.exists(path("nosuffix.eqx"))
    # No inputs.
    run(["pack", path("x.eqx")], rc=2)
    # A missing input, a truncated one, garbage, an object array, trailing bytes:
    # exit 2, the message names the file, no output is left behind.
    np.save(path("trunc-src.npy"), np.arange(100.0))
    data = open(path("trunc-src.npy"), "rb").read()
    open(path("trunc.npy"), "wb").write(data[:500])
    open(path("garbage.npy"), "wb").write(b"this is not an npy file at all" * 10)
    np.save(path("object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    open(path("trailing.npy"), "wb").write(data + b"extra")
    for bad in ["missing.npy", "trunc.npy", "garbage.npy", "object.npy", "trailing.npy"]:
        out = path("bad-pack.eqx")
        _, err = run(["pack", out, a, path(bad)], rc=2)
        assert_error(err, bad)
        assert not os.path.exists(out), bad
    no_temporaries(TMP)
    # A failed pack leaves an existing output as it was.
    run(["pack", path("keep.eqx"), a])
    before = open(path("keep.eqx"), "rb").read()
    run(["pack", path("keep.eqx"), a, path("trunc.npy")], rc=2)
    assert open(path("keep.eqx"), "rb").read() == before


def mixed_arrays():
    return [np.arange(6, dtype=np.float32).reshape(2, 3),
            np.array(3.5),
            np.array([[1, 2], [3, 4]], dtype=np.int16),
            np.zeros((0, 4), dtype=np.complex64),
            random_array("uint8", (5, 5))]


def test_inspect():
    arrays = mixed_arrays()
    # One Fortran-ordered, big-endian record as numpy writes it into a file.
    arrays.append(np.asfortranarray(random_array(">f8", (3, 4))))
    filename = path("mixed.eqx")
    offsets = save_eqx(filename, arrays)
    out, _ = run(["inspect", filename])
    table, summary = out.split("\n\n")
    lines = table.strip().splitlines()
    assert lines[0].split() == ["RECORD", "OFFSET", "SIZE", "CODEC", "KIND", "DTYPE", "SHAPE"]
    assert len(lines) == 1 + len(arrays)
    summary = summary.splitlines()
    assert summary[0] == (f"{len(arrays)} records, {offsets[-1]} bytes stored, "
                          f"{sum(a.size for a in arrays)} elements"), summary
    assert summary[2] == f"codecs: npy ({len(arrays)})", summary
    for i, (line, a) in enumerate(zip(lines[1:], arrays)):
        fields = line.split(None, 6)
        assert fields[:6] == [str(i), str(offsets[i]), str(offsets[i + 1] - offsets[i]),
                              "npy", "array", a.dtype.newbyteorder("=").name], line
        assert fields[6] == repr(a.shape), line
    records = json.loads(run(["inspect", "--json", filename])[0])
    assert [r["offset"] for r in records] == offsets[:-1]
    assert [r["size"] for r in records] == [b - a for a, b in zip(offsets, offsets[1:])]
    assert [tuple(r["shape"]) for r in records] == [a.shape for a in arrays]
    assert all(r["codec"] == "npy" and r["inner"] is None for r in records)
    assert [r["decoded_size"] for r in records] == [a.nbytes for a in arrays]
    # An empty file has no records.
    open(path("empty.eqx"), "wb").close()
    out, _ = run(["inspect", "--json", path("empty.eqx")])
    assert json.loads(out) == []
    # Bytes that are no record: the records before them are listed, then the
    # rest of the file as one unknown record, then the error names it.
    tail = path("unknown-tail.eqx")
    open(tail, "wb").write(open(filename, "rb").read() + b"no magic here")
    out, err = run(["inspect", tail], rc=2)
    lines = out.strip().splitlines()
    assert len(lines) == 2 + len(arrays), out
    assert lines[-1].split() == [str(len(arrays)), str(offsets[-1]), "13", "unknown", "?", "?",
                                 "?"]
    assert_error(err, tail, len(arrays), offsets[-1])
    # ... and says what each codec found.
    assert re.search(r"no codec recognises this record \(it starts with 6e 6f 20 6d 61 67 69 "
                     r"63\): npy(, [a-z0-9-]+)*: not an npy record", err), err


def bad_files(good, offsets):
    """Truncated and corrupt copies of `good`, with the record each breaks."""
    data = open(good, "rb").read()
    base = os.path.splitext(os.path.basename(good))[0]
    cases = []
    # Cut inside the data of record 2, inside the header of record 3, inside
    # record 1's magic.
    cuts = [(offsets[3] - 5, 2), (offsets[3] + 20, 3), (offsets[1] + 3, 1)]
    for n, (cut, record) in enumerate(cuts):
        name = path(f"{base}-trunc{n}.eqx")
        open(name, "wb").write(data[:cut])
        cases.append((name, record, offsets[record]))
    # A broken header dict in record 1, a bad magic in record 2, a negative
    # shape in record 3, and garbage after the last record.
    corrupt = bytearray(data)
    corrupt[offsets[1] + 12] = ord("X")
    name = path(f"{base}-dict.eqx")
    open(name, "wb").write(corrupt)
    cases.append((name, 1, offsets[1]))
    corrupt = bytearray(data)
    corrupt[offsets[2]:offsets[2] + 6] = b"GARBAG"
    name = path(f"{base}-magic.eqx")
    open(name, "wb").write(corrupt)
    cases.append((name, 2, offsets[2]))
    corrupt = bytearray(data)
    header = bytes(corrupt[offsets[3]:offsets[3] + 128])
    i = header.index(b"'shape': (") + len(b"'shape': (")
    corrupt[offsets[3] + i] = ord("-")
    name = path(f"{base}-negative.eqx")
    open(name, "wb").write(corrupt)
    cases.append((name, 3, offsets[3]))
    name = path(f"{base}-tail.eqx")
    open(name, "wb").write(data + b"\x00garbage after the last record")
    cases.append((name, len(offsets) - 1, offsets[-1]))
    return cases


def test_bad_input_every_command():
    arrays = mixed_arrays()
    good = path("good.eqx")
    offsets = save_eqx(good, arrays)
    for name, record, offset in bad_files(good, offsets):
        for args in (["inspect", name], ["inspect", "--json", name], ["skeleton", name],
                     ["unpack", name, path("bad-unpack")],
                     ["convert", "--spec", "npy", name, path("bad-convert.eqx")],
                     ["diff", good, name], ["diff", name, good]):
            _, err = run(args, rc=2)
            assert_error(err, name, record, offset)
        assert not os.path.exists(path("bad-convert.eqx"))
    # Files that cannot be opened.
    for args in (["inspect", path("nope.eqx")], ["skeleton", TMP],
                 ["diff", good, path("nope.eqx")]):
        _, err = run(args, rc=2)
        assert err.startswith("leafio: "), err
    no_temporaries(TMP)


def test_unpack_round_trip():
    arrays = mixed_arrays() + [np.asfortranarray(random_array(">i4", (2, 5)))]
    filename = path("unpack.eqx")
    offsets = save_eqx(filename, arrays)
    outdir = path("unpacked", "deeper")
    run(["unpack", filename, outdir])
    names = sorted(os.listdir(outdir))
    assert names == [f"{i:06d}.npy" for i in range(len(arrays))], names
    data = open(filename, "rb").read()
    for i, a in enumerate(arrays):
        got = os.path.join(outdir, f"{i:06d}.npy")
        b = np.load(got)
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)
        # npy records are copied byte for byte.
        assert open(got, "rb").read() == data[offsets[i]:offsets[i + 1]]
    # unpack then pack gives back the C-ordered little-endian file.
    files = [os.path.join(outdir, n) for n in names]
    run(["pack", path("repacked.eqx")] + files)
    save_eqx(path("repacked-expected.eqx"),
             [c_little_endian(a) for a in arrays])
    assert open(path("repacked.eqx"), "rb").read() == \
        open(path("repacked-expected.eqx"), "rb").read()
    no_temporaries(outdir)


def test_diff():
    arrays = mixed_arrays()
    a = path("diff-a.eqx")
    save_eqx(a, arrays)
    out, _ = run(["diff", a, a])
    assert out == ""
    # The same values through pack (a byte-identical copy) are equal too.
    changed = [x.copy() for x in arrays]
    changed[2][1, 0] += 7
    b = path("diff-b.eqx")
    save_eqx(b, changed)
    out, _ = run(["diff", a, b], rc=1)
    assert re.search(r"^record 2 \(offset \d+\): int16 \(2, 2\): 1 of 4 elements differ, "
                     r"max abs diff 7\b", out, re.M), out
    assert "1 of 5 compared records differ" in out
    out, _ = run(["diff", "--brief", a, b], rc=1)
    assert out == ""
    # Tolerances: a small float change is equal within --atol / --rtol.
    close = [x.copy() for x in arrays]
    close[0][0, 1] += 1e-4
    c = path("diff-c.eqx")
    save_eqx(c, close)
    run(["diff", a, c], rc=1)
    run(["diff", "--atol", "1e-3", a, c])
    run(["diff", "--rtol", "1e-3", a, c])
    out, _ = run(["diff", "--verbose", "--atol", "1e-3", a, c])
    assert "equal" in out and "within tolerance" in out, out
    # dtype, shape and record count differences.
    other = list(arrays)
    other[1] = np.array(3.5, dtype=np.float32)
    d = path("diff-d.eqx")
    save_eqx(d, other)
    out, _ = run(["diff", a, d], rc=1)
    assert "record 1 (offset" in out and "float64 () vs float32 ()" in out, out
    e = path("diff-e.eqx")
    save_eqx(e, arrays[:3])
    out, _ = run(["diff", a, e], rc=1)
    assert "records 3-4 (offset" in out and "only in" in out and "numbers of records differ" in out, out
    # NaN equals NaN in the same place; a NaN against a number differs.
    n1, n2, n3 = path("nan1.eqx"), path("nan2.eqx"), path("nan3.eqx")
    save_eqx(n1, [np.array([1.0, np.nan])])
    save_eqx(n2, [np.array([1.0, np.nan])])
    save_eqx(n3, [np.array([1.0, 2.0])])
    run(["diff", n1, n2])
    run(["diff", n1, n3], rc=1)


def test_convert_plain():
    arrays = mixed_arrays()
    src = path("conv-src.eqx")
    save_eqx(src, arrays)
    out = path("conv-npy.eqx")
    run(["convert", "--spec", "npy", src, out])
    assert open(out, "rb").read() == open(src, "rb").read()
    # In place: OUT may be IN, with --force as any output that exists.
    inplace = path("conv-inplace.eqx")
    shutil.copy(src, inplace)
    run(["convert", "--spec", "npy", inplace, inplace], rc=2)
    run(["convert", "-f", "--spec", "npy", inplace, inplace])
    assert open(inplace, "rb").read() == open(src, "rb").read()
    # Unknown codecs and bad references are errors, and the output is untouched.
    _, err = run(["convert", "-f", "--spec", "no-such-codec", src, out], rc=2)
    assert "no-such-codec" in err
    _, err = run(["convert", "-f", "--spec", "npy(", src, out], rc=2)
    assert open(out, "rb").read() == open(src, "rb").read()
    no_temporaries(TMP)


def test_codec_conversions():
    available = codecs()
    arrays = [random_array("float32", (64, 33)), random_array("float64", (10,)),
              random_array("int32", (3, 3)), np.array(2.5)]
    src = path("codec-src.eqx")
    save_eqx(src, arrays)

    if "float16" in available:
        f16 = path("codec-f16.eqx")
        run(["convert", "--spec", "float16", src, f16])
        records = json.loads(run(["inspect", "--json", f16])[0])
        assert [r["codec"] for r in records] == ["npy"] * len(arrays)
        with open(f16, "rb") as f:
            for a in arrays:
                b = np.load(f)
                if a.dtype.kind == "f":
                    assert b.dtype == np.float16 and np.array_equal(b, a.astype(np.float16))
                else:
                    assert b.dtype == a.dtype and np.array_equal(a, b)
        out, _ = run(["diff", src, f16], rc=1)
        assert re.search(r"^record 0 \(offset 0\): float32 \(64, 33\) vs float16 \(64, 33\): "
                         r"\d+ of 2112 elements differ, max abs diff [0-9.e-]+, "
                         r"max rel diff 0\.000[0-4]", out, re.M), out
        assert re.search(r"^record 2 \(offset \d+\): int32 \(3, 3\)", out, re.M) is None, out
        # With --spec and --like, records are described for their leaves:
        # float16 restores like's dtype, and unpack writes what a load gives.
        like = path("codec-f16-like.json")
        json.dump([{"dtype": a.dtype.name, "shape": list(a.shape)} for a in arrays],
                  open(like, "w"))
        listed = json.loads(run(["inspect", "--json", "--like", like, "--spec", "float16",
                                 f16])[0])
        assert [(r["codec"], r["dtype"]) for r in listed] == \
            [("float16", a.dtype.name) for a in arrays], listed
        assert [r["stored_dtype"] for r in listed] == \
            ["float16" if a.dtype.kind == "f" else a.dtype.name for a in arrays], listed
        outdir = path("unpacked-f16")
        run(["unpack", "--like", like, "--spec", "float16", f16, outdir])
        for i, a in enumerate(arrays):
            b = np.load(os.path.join(outdir, f"{i}.npy"))
            assert b.dtype == a.dtype and np.allclose(a, b, rtol=1e-3), (a, b)
        # Rules over the list paths: only [1] goes to float16.
        rules = path("rules.txt")
        open(rules, "w").write("# only the second leaf\n[1] = float16\n")
        ruled = path("codec-ruled.eqx")
        run(["convert", "--rules", rules, src, ruled])
        dtypes = [r["dtype"] for r in json.loads(run(["inspect", "--json", ruled])[0])]
        assert dtypes == ["float32", "float16", "int32", "float64"], dtypes
    else:
        print("test_codec_conversions: float16 codec not built; its checks not run")

    if "compressed" in available:
        zst = path("codec-zst.eqx")
        run(["convert", "--spec", "compressed(level=19)", src, zst])
        records = json.loads(run(["inspect", "--json", zst])[0])
        assert [r["codec"] for r in records] == ["compressed"] * len(arrays)
        assert [r["inner"] for r in records] == ["npy"] * len(arrays)
        assert [tuple(r["shape"]) for r in records] == [a.shape for a in arrays]
        assert [r["dtype"] for r in records] == [a.dtype.name for a in arrays]
        # Lossless: diff finds no difference, unpack gives numpy's files,
        # converting back to npy gives the original bytes.
        run(["diff", src, zst])
        outdir = path("unpacked-zst")
        run(["unpack", zst, outdir])
        for i, a in enumerate(arrays):
            b = np.load(os.path.join(outdir, f"{i:06d}.npy"))
            assert b.dtype == a.dtype and np.array_equal(a, b)
        back = path("codec-back.eqx")
        run(["convert", "--spec", "npy", zst, back])
        assert open(back, "rb").read() == open(src, "rb").read()
        # Skeleton of a compressed file has the stored dtypes and shapes.
        skel = json.loads(run(["skeleton", zst])[0])
        assert [tuple(x["shape"]) for x in skel] == [a.shape for a in arrays]
        # A corrupt compressed record is an error naming it.
        data = bytearray(open(zst, "rb").read())
        start = records[2]["offset"]
        data[start + records[2]["size"] // 2] ^= 0xFF
        bad = path("codec-zst-bad.eqx")
        open(bad, "wb").write(data)
        for args in (["diff", src, bad], ["unpack", bad, path("zst-bad-dir")],
                     ["convert", "--spec", "npy", bad, path("zst-bad-out.eqx")]):
            _, err = run(args, rc=2)
            assert_error(err, bad, 2, start)
        _, err = run(["convert", "--spec", "npy", bad, path("zst-bad-out.eqx")], rc=2)
        assert not os.path.exists(path("zst-bad-out.eqx"))
        # A frame too broken to give the inner npy header: inspect says so.
        ref_len = int.from_bytes(data[start + 8:start + 12], "little")
        broken = bytearray(open(zst, "rb").read())
        broken[start + 40 + ref_len:start + 40 + ref_len + 8] = b"\0" * 8
        open(bad, "wb").write(broken)
        _, err = run(["inspect", bad], rc=2)
        assert_error(err, bad, 2, start)
        # A raw size the inner npy header does not agree with.
        lying = bytearray(open(zst, "rb").read())
        raw = int.from_bytes(lying[start + 16:start + 24], "little")
        lying[start + 16:start + 24] = (raw + 64).to_bytes(8, "little")
        open(bad, "wb").write(lying)
        _, err = run(["inspect", bad], rc=2)
        assert_error(err, bad, 2, start)
        assert "%d bytes the record declares" % (raw + 64) in err, err
        # inspect reads a big record's header and the first bytes of its
        # frame only: damage near the frame's end is found by what decodes.
        big_src = path("codec-big.eqx")
        save_eqx(big_src, [np.arange(1 << 20, dtype=np.float32)])
        big = path("codec-big-zst.eqx")
        run(["convert", "--spec", "compressed", big_src, big])
        damaged = bytearray(open(big, "rb").read())
        damaged[-20] ^= 0xFF
        open(big, "wb").write(damaged)
        listed = json.loads(run(["inspect", "--json", big])[0])
        assert [(r["dtype"], r["shape"], r["size"]) for r in listed] == \
            [("float32", [1 << 20], len(damaged))], listed
        _, err = run(["unpack", big, path("big-unpacked")], rc=2)
        assert_error(err, big, 0, 0)
        # Inner codecs without an npy header of their own are decoded.
        cast = path("codec-zst-cast.eqx")
        run(["convert", "--spec", "compressed(inner=cast)", src, cast])
        listed = json.loads(run(["inspect", "--json", cast])[0])
        assert [r["dtype"] for r in listed] == [a.dtype.name for a in arrays], listed
        if "float16" in available:
            both = path("codec-both.eqx")
            run(["convert", "--spec", "compressed(level=3, inner=float16)", src, both])
            out, _ = run(["diff", "--rtol", "1e-3", src, both], rc=1)
    else:
        print("test_codec_conversions: compressed codec not built; its checks not run")


def test_custom_codec():
    """A codec from a .so of its own (the example int8-affine) works wherever
    a built-in one does: inspect, skeleton, unpack and convert describe and
    decode its records through its codec."""
    env = plugin_env("int8-affine")
    arrays = [np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6),
              (RNG.standard_normal((3, 5)) * 10).astype(np.float32),
              np.array(0.25, dtype=np.float32)]
    files = []
    for i, a in enumerate(arrays):
        files.append(path(f"i8-{i}.npy"))
        np.save(files[-1], a)
    q = path("i8.eqx")
    run(["pack", "--spec", "int8-affine", q] + files, env=env)
    size = os.path.getsize(q)

    # Its records are numpy's: without --spec they read as npy records, two
    # a leaf ([scale, zero_point], then the int8 values).
    records = json.loads(run(["inspect", "--json", q], env=env)[0])
    assert [(r["codec"], r["dtype"], tuple(r["shape"])) for r in records] == \
        [x for a in arrays for x in (("npy", "float64", (2,)), ("npy", "int8", a.shape))], records

    # With --spec, the codec describes each record: the leaf it decodes to.
    records = json.loads(run(["inspect", "--json", "--spec", "int8-affine", q], env=env)[0])
    assert [(r["codec"], r["kind"], r["dtype"], tuple(r["shape"])) for r in records] == \
        [("int8-affine", "array", "float32", a.shape) for a in arrays], records
    assert [r["offset"] for r in records] == \
        [sum(r["size"] for r in records[:i]) for i in range(len(records))]
    assert sum(r["size"] for r in records) == size, records
    out, _ = run(["inspect", "--spec", "int8-affine", q], env=env)
    lines = out.split("\n\n")[0].strip().splitlines()
    assert len(lines) == 1 + len(arrays)
    assert f"codecs: int8-affine ({len(arrays)})" in out, out
    for line, a in zip(lines[1:], arrays):
        fields = line.split(None, 6)
        assert fields[3:6] == ["int8-affine", "array", "float32"], line
        assert fields[6] == repr(a.shape), line
    skel = json.loads(run(["skeleton", "--spec", "int8-affine", q], env=env)[0])
    assert skel == [{"dtype": "float32", "shape": list(a.shape)} for a in arrays], skel

    # Without the plugin the codec is unknown, and the message says so.
    _, err = run(["inspect", "--spec", "int8-affine", q], rc=2)
    assert "int8-affine" in err, err

    # convert re-encodes its records to npy and back.
    plain = path("i8-plain.eqx")
    run(["convert", "--input-spec", "int8-affine", "--spec", "npy", q, plain],
        env=env)
    with open(plain, "rb") as f:
        decoded = [np.load(f) for _ in arrays]
    for a, b in zip(arrays, decoded):
        step = (a.max() - a.min()) / 255 if a.size > 1 else abs(float(a))
        assert b.dtype == np.float32 and b.shape == a.shape
        assert np.max(np.abs(a - b)) <= step / 2 + 1e-6, (a, b)
    back = path("i8-back.eqx")
    run(["convert", "--spec", "int8-affine", plain, back], env=env)
    again = json.loads(run(["inspect", "--json", "--spec", "int8-affine", back], env=env)[0])
    assert [tuple(r["shape"]) for r in again] == [a.shape for a in arrays], again
    plain2 = path("i8-plain2.eqx")
    run(["convert", "--input-spec", "int8-affine", "--spec", "npy", back, plain2], env=env)
    with open(plain2, "rb") as f:
        for b in decoded:
            c = np.load(f)
            step = (b.max() - b.min()) / 255 if b.size > 1 else abs(float(b))
            assert np.max(np.abs(b - c)) <= step + 1e-6, (b, c)

    # unpack decodes through the codec; the files are what convert gave.
    outdir = path("i8-unpacked")
    run(["unpack", "--spec", "int8-affine", q, outdir], env=env)
    for i, b in enumerate(decoded):
        c = np.load(os.path.join(outdir, f"{i:06d}.npy"))
        assert c.dtype == b.dtype and np.array_equal(b, c)

    # A skeleton leaf the record does not fit is refused, naming both.
    like = path("i8-like.json")
    wrong = [{"dtype": "float32", "shape": list(a.shape)} for a in arrays]
    wrong[1]["shape"] = [5, 3]
    json.dump(wrong, open(like, "w"))
    _, err = run(["inspect", "--spec", "int8-affine", "--like", like, q], rc=2, env=env)
    assert_error(err, q, 1, records[1]["offset"])
    assert "expected float32 array of shape (5, 3), found float32 array of shape (3, 5)" in err, err

    # Wrapped in compressed: the record says which codec is inside.
    if "compressed" in codecs():
        z = path("i8-z.eqx")
        run(["convert", "--spec", "compressed(inner=int8-affine)", plain, z], env=env)
        records = json.loads(run(["inspect", "--json", z], env=env)[0])
        assert [(r["codec"], r["inner"], r["dtype"], tuple(r["shape"])) for r in records] == \
            [("compressed", "int8-affine", "float32", a.shape) for a in arrays], records
        unz = path("i8-unz.eqx")
        run(["convert", "--spec", "npy", z, unz], env=env)
        with open(unz, "rb") as f:
            for b in decoded:
                c = np.load(f)
                step = (b.max() - b.min()) / 255 if b.size > 1 else abs(float(b))
                assert np.max(np.abs(b - c)) <= step + 1e-6, (b, c)
    no_temporaries(TMP)


def test_codec_without_describe():
    """A codec with no describe function cannot be listed or read without a
    skeleton: the message names the codec and what it lacks."""
    env = plugin_env("good")
    src = path("nodescribe.eqx")
    save_eqx(src, [np.arange(3, dtype=np.float32)])
    for args in (["inspect", "--spec", "good-a", src], ["skeleton", "--spec", "good-a", src],
                 ["unpack", "--spec", "good-a", src, path("nodescribe-dir")],
                 ["convert", "--input-spec", "good-a", "--spec", "npy", src,
                  path("nodescribe-out.eqx")]):
        _, err = run(args, rc=2, env=env)
        assert_error(err, src, 0, 0)
        assert "codec 'good-a' cannot describe its records" in err, err
    assert not os.path.exists(path("nodescribe-out.eqx"))
    # It is not asked to recognise records either: they read as npy.
    records = json.loads(run(["inspect", "--json", src], env=env)[0])
    assert [r["codec"] for r in records] == ["npy"], records
    # Without --like, --spec names one codec, not a spec tree.
    _, err = run(["inspect", "--spec", '["npy"]', src], rc=2)
    assert "--spec" in err and "one codec" in err, err


def test_record_size_limit():
    """Without --like nothing bounds what a record decodes to but a limit
    (4 GiB unless --max-record-size or LEAFIO_MAX_RECORD_SIZE says), checked
    on the codec's description before anything is decoded."""
    arrays = [np.zeros(16, dtype=np.float32), np.zeros((8, 8), dtype=np.float64)]
    src = path("limit.eqx")
    offsets = save_eqx(src, arrays)
    out = path("limit-out.eqx")
    _, err = run(["convert", "--max-record-size", "100", "--spec", "npy", src, out], rc=2)
    assert_error(err, src, 1, offsets[1])
    assert "record decodes to 512 bytes, expected at most 100" in err, err
    assert "--max-record-size" in err and "LEAFIO_MAX_RECORD_SIZE" in err, err
    assert not os.path.exists(out)
    env = dict(os.environ, LEAFIO_MAX_RECORD_SIZE="64")
    _, err = run(["diff", src, src], rc=2, env=env)
    assert "expected at most 64" in err, err
    # Sizes take binary units; 0 lifts the limit; the option wins over the variable.
    for size in ("512", "1K", "1KiB", "4GiB", "0"):
        run(["convert", "-f", "--max-record-size", size, "--spec", "npy", src, out], env=env)
        assert open(out, "rb").read() == open(src, "rb").read()
    for bad in ("12Q", "-1", "K", "1.5G", "99999999999999999999"):
        _, err = run(["convert", "--max-record-size", bad, "--spec", "npy", src, out], rc=2)
        assert "--max-record-size" in err and bad in err, err
        _, err = run(["inspect", src], rc=2, env=dict(os.environ, LEAFIO_MAX_RECORD_SIZE=bad))
        assert "LEAFIO_MAX_RECORD_SIZE" in err and bad in err, err
    # Listing decodes nothing, so it needs no limit.
    run(["inspect", "--max-record-size", "1", src])

    if "compressed" not in codecs():
        print("test_record_size_limit: compressed codec not built; its checks not run")
        return
    # A compressed record is small on disk and large decoded: the limit is
    # what stops a tiny file from making a command allocate without bound.
    big = path("limit-big.npy")
    np.save(big, np.zeros(1 << 20, dtype=np.float32))
    z = path("limit-z.eqx")
    run(["convert", "--spec", "compressed", big, z])
    assert os.path.getsize(z) < 4096
    env = dict(os.environ, LEAFIO_MAX_RECORD_SIZE="1M")
    os.remove(out)
    for args in (["unpack", z, path("limit-z-dir")], ["convert", "--spec", "npy", z, out],
                 ["diff", z, z]):
        _, err = run(args, rc=2, env=env)
        assert_error(err, z, 0, 0)
        assert "record decodes to 4194304 bytes, expected at most 1048576" in err, err
    assert not os.path.exists(out)
    # With --like the skeleton's leaf bounds the record instead.
    like = path("limit-like.json")
    json.dump([{"dtype": "float32", "shape": [1 << 20]}], open(like, "w"))
    run(["unpack", "--like", like, z, path("limit-z-like")], env=env)
    assert np.array_equal(np.load(path("limit-z-like", "0.npy")), np.zeros(1 << 20, np.float32))
    # A record that claims 64 GiB is refused by the default limit with
    # little memory used.
    data = bytearray(open(z, "rb").read())
    data[16:24] = (64 << 30).to_bytes(8, "little")
    claim = path("limit-claim.eqx")
    open(claim, "wb").write(data)
    rc, err, rss = max_rss_kib(["unpack", claim, path("limit-claim-dir")])
    assert rc == 2, err
    assert_error(err, claim, 0, 0)
    assert rss < 64 * 1024, rss


def test_skeleton_and_like():
    arrays = [random_array("float32", (4, 3)), random_array("float32", (3,)),
              random_array("int64", ()), random_array("float16", (2, 2))]
    filename = path("like.eqx")
    offsets = save_eqx(filename, arrays)

    skel = json.loads(run(["skeleton", filename])[0])
    assert skel == [{"dtype": a.dtype.name, "shape": list(a.shape)} for a in arrays], skel

    # A structured skeleton: dict keys sorted, an opaque leaf with no record.
    like = {"layers": [{"weight": {"dtype": "float32", "shape": [4, 3]},
                        "bias": {"dtype": "float32", "shape": [3]}}],
            "act": {"opaque": "function"},
            "step": {"scalar": "int64", "value": 0},
            "zz odd/key": {"dtype": "float16", "shape": [2, 2]}}
    # Flattening order: 'act', 'layers' ([0]['bias'], [0]['weight']), 'step', 'zz odd/key'.
    arrays = [random_array("float32", (3,)), random_array("float32", (4, 3)),
              np.array(7, dtype=np.int64), random_array("float16", (2, 2))]
    filename = path("like2.eqx")
    offsets = save_eqx(filename, arrays)
    like_file = path("like2.json")
    json.dump(like, open(like_file, "w"))
    out, _ = run(["inspect", "--like", like_file, filename])
    lines = out.strip().splitlines()
    assert lines[0].split()[-1] == "PATH"
    assert lines[1].split()[3] == "skipped" and lines[1].endswith("['act']"), lines[1]
    assert lines[2].endswith("['layers'][0]['bias']") and lines[2].split()[0] == "0"
    assert lines[5].endswith("['zz odd/key']"), lines[5]
    records = json.loads(run(["inspect", "--json", "--like", like_file, filename])[0])
    assert [r["skipped"] for r in records] == [True, False, False, False, False]
    assert [r["path"] for r in records][1:] == ["['layers'][0]['bias']",
                                                 "['layers'][0]['weight']", "['step']",
                                                 "['zz odd/key']"]
    assert [r["offset"] for r in records[1:]] == offsets[:-1]

    # unpack --like names files after the paths.
    outdir = path("unpack-like")
    run(["unpack", "--like", like_file, filename, outdir])
    names = sorted(os.listdir(outdir))
    assert names == sorted(["layers.0.bias.npy", "layers.0.weight.npy", "step.npy",
                            "zz%20odd%2Fkey.npy"]), names
    assert np.array_equal(np.load(os.path.join(outdir, "layers.0.weight.npy")), arrays[1])

    # convert --like: rules see the real paths.
    rules = path("like-rules.txt")
    open(rules, "w").write("*weight* = float16\n")
    if "float16" in codecs():
        conv = path("like-conv.eqx")
        run(["convert", "--like", like_file, "--rules", rules, filename, conv])
        dtypes = [r["dtype"] for r in json.loads(run(["inspect", "--json", conv])[0])]
        assert dtypes == ["float32", "float16", "int64", "float16"], dtypes

    # A wrong skeleton: a shape that differs, too many leaves, too few.
    wrong = json.loads(json.dumps(like))
    wrong["layers"][0]["weight"]["shape"] = [3, 4]
    json.dump(wrong, open(path("wrong.json"), "w"))
    for args in (["inspect", "--like", path("wrong.json"), filename],
                 ["unpack", "--like", path("wrong.json"), filename, path("wrong-dir")]):
        _, err = run(args, rc=2)
        assert_error(err, filename, 1, offsets[1])
        assert "['layers'][0]['weight']" in err, err
    more = dict(like, zzz={"dtype": "float32", "shape": [1]})
    json.dump(more, open(path("more.json"), "w"))
    _, err = run(["inspect", "--like", path("more.json"), filename], rc=2)
    assert_error(err, filename, 4, offsets[4])
    fewer = dict(like)
    del fewer["zz odd/key"]
    json.dump(fewer, open(path("fewer.json"), "w"))
    _, err = run(["inspect", "--like", path("fewer.json"), filename], rc=2)
    assert_error(err, filename, 3, offsets[3])
    _, err = run(["convert", "--spec", "npy", "--like", path("wrong.json"), filename,
                  path("wrong-conv.eqx")], rc=2)
    assert "weight" in err
    open(path("broken.json"), "w").write("{ not json")
    _, err = run(["inspect", "--like", path("broken.json"), filename], rc=2)
    assert err.startswith("leafio: ")


def run_in_pty(args, env):
    """Runs leafio with stderr on a terminal; returns (status, stderr text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([LEAFIO] + args, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode(errors="replace")


def test_progress():
    big = path("progress.npy")
    np.save(big, np.zeros(4 << 20, dtype=np.float32))
    env = dict(os.environ, LEAFIO_PROGRESS_DELAY_MS="0")
    rc, err = run_in_pty(["pack", "-f", path("progress.eqx"), big], env)
    assert rc == 0, err
    assert "writing" in err and "%" in err and "/s" in err and "left" in err, repr(err)
    rc, err = run_in_pty(["pack", "-f", "--quiet", path("progress.eqx"), big], env)
    assert rc == 0 and err == "", repr(err)
    # Not a terminal: no bar, only the result line.
    _, err = run(["pack", "-f", path("progress.eqx"), big], env=env)
    assert "\r" not in err and "%" not in err.split("(")[0], err
    assert re.fullmatch(r"leafio: \S+ -> \S+: \d+ -> \d+ bytes \(\d+\.\d\d%\), [^\n]*\n",
                        err), err


def test_interrupt_leaves_no_temporary():
    """SIGINT while the output is being written: the temporary file goes, the
    previous output stays."""
    if "compressed" not in codecs():
        print("test_interrupt_leaves_no_temporary: compressed codec not built; not run")
        return
    import signal
    import time
    src = path("interrupt.npy")
    np.save(src, RNG.standard_normal(4 << 20))
    outdir = path("interrupt")
    os.makedirs(outdir)
    out = os.path.join(outdir, "out.eqx")
    open(out, "wb").write(b"previous")
    # Slow on purpose (level 19), so the temporary file is there to be seen.
    proc = subprocess.Popen([LEAFIO, "convert", "-f", "--spec", "compressed(level=19)", src, out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if any(n.startswith(".") for n in os.listdir(outdir)):
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.01)
    rc = proc.wait()
    if rc == 0:
        print("test_interrupt_leaves_no_temporary: finished before the signal; not checked")
        return
    assert rc == -signal.SIGINT, rc
    assert os.listdir(outdir) == ["out.eqx"], os.listdir(outdir)
    assert open(out, "rb").read() == b"previous"


def main():
    tests = [(name, fn) for name, fn in sorted(globals().items())
             if name.startswith("test_") and callable(fn)]
    only = sys.argv[1:]
    failed = 0
    try:
        for name, fn in tests:
            if only and name not in only:
                continue
            try:
                fn()
                print(f"PASS: {name}")
            except Exception as e:  # report every failure, then fail
                failed += 1
                print(f"FAIL: {name}: {type(e).__name__}: {e}")
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
