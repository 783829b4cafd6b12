"""npy interop: leafio's records against numpy's, both ways.

1. For a matrix of dtypes x shapes (and scalars), the records npy-tool
   writes with lf_npy_write are byte-identical to np.save of the same
   arrays written in sequence to one file.
2. Files numpy writes (C and Fortran order, little- and big-endian,
   versions 1.0/2.0/3.0, void '|V2' and jnp-style '<V2' bfloat16) load in
   C with equal values, read by path, mapped, and through a pipe.
3. Records lf_npy_write aligns to 4096 still load with np.load.

Usage: interop_npy.py PATH/TO/npy-tool
"""
import io
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TOOL = sys.argv[1]

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float16", "float32", "float64", "complex64", "complex128"]
SHAPES = [(), (0,), (3,), (2, 0, 3), (2, 3, 4), (1, 2, 1, 3, 1, 2, 2),
          (4, 3, 2, 1, 2, 3, 2), (2, 1000000, 100, 0, 1000000, 1000),
          (100003,)]

failures = []


def numpy_padding(arr):
    """The pad spaces np.save puts after the growth spaces (1..64)."""
    f = io.BytesIO()
    np.save(f, arr)
    head = f.getvalue()
    hlen = int.from_bytes(head[8:10], "little")
    text = head[10:10 + hlen].decode("latin1")
    spaces = len(text) - 1 - len(text.rstrip("\n").rstrip(" "))
    growth = 21 - len(str(arr.shape[0])) if arr.ndim else 0
    return spaces - growth


def edge_shapes(dtype):
    """Zero-size shapes whose numpy header needs exactly 1 and exactly 64 pad
    spaces: the cases a writer that gets growth or padding wrong misses."""
    found = {}
    # Ones add 3 characters a dim, one big dim 1..15 digits: together they
    # reach every header length modulo 64.
    for ndim in range(3, 33):
        for digits in range(1, 16):
            shape = (0, 10 ** (digits - 1)) + (1,) * (ndim - 2)
            pad = numpy_padding(np.zeros(shape, dtype=dtype))
            if pad in (1, 64):
                found.setdefault(pad, shape)
        if len(found) == 2:
            break
    check(len(found) == 2, "no edge shapes found for %s: %r" % (dtype, found))
    return list(found.values())


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def values(dtype, shape):
    """Deterministic contents that exercise every byte of each dtype."""
    n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    if n == 0:
        return np.zeros(shape, dtype=dtype)
    i = np.arange(n, dtype=np.int64)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        a = (i % 3) == 0
    elif dt.kind in "iu":
        # A multiplicative hash, wrapped to the dtype (negatives included).
        x = i.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(12345)
        a = x.astype(dt)
    elif dt.kind == "f":
        a = ((i - n / 2) * 0.37).astype(dt)
    else:
        a = ((i - 1.5) * 0.25 + 1j * (i * -0.75 + 2)).astype(dt)
    return a.reshape(shape)


def shape_arg(shape):
    return "-" if len(shape) == 0 else ",".join(str(d) for d in shape)


def run_tool_write(work, entries, out, align=None):
    """entries: (kind, dtype name, shape, ndarray) -> npy-tool write."""
    lines = []
    for k, (kind, name, shape, arr) in enumerate(entries):
        raw = os.path.join(work, "in-%d.raw" % k)
        with open(raw, "wb") as f:
            f.write(np.ascontiguousarray(arr).tobytes())
        lines.append("%s %s %s %s\n" % (kind, name, shape_arg(shape), raw))
    cmd = [TOOL, "write", out] + (["--align", str(align)] if align else [])
    subprocess.run(cmd, input="".join(lines).encode(), check=True)


def run_tool_read(path, outdir, mode):
    """Returns [(dtype name, shape tuple, raw bytes)] as read by C."""
    if os.path.exists(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    if mode == "pipe":
        with open(path, "rb") as f:
            data = f.read()
        proc = subprocess.run([TOOL, "read", "-", outdir], input=data,
                              stdout=subprocess.PIPE, check=True)
    else:
        cmd = [TOOL, "read", path, outdir] + (["--map"] if mode == "map" else [])
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
    records = []
    for line in proc.stdout.decode().splitlines():
        index, name, shape = line.split(" ")
        shape = eval(shape.replace("_", " "), {})  # our own output: a tuple repr
        with open(os.path.join(outdir, "%s.bin" % index), "rb") as f:
            records.append((name, shape, f.read()))
    return records


def test_c_writes_like_numpy(work):
    entries = []
    expected = io.BytesIO()
    edges = 0
    for name in DTYPES:
        for shape in SHAPES + edge_shapes(name):
            arr = values(name, shape)
            entries.append(("array", name, shape, arr))
            np.save(expected, arr)
        edges += 2
        # numpy scalars are 0-d records.
        scalar = values(name, ())[()]
        entries.append(("scalar", name, (), np.asarray(scalar)))
        np.save(expected, scalar)
    # Python scalars as Equinox saves them: bool |b1, int <i8, float <f8, complex <c16.
    for py, name in [(True, "bool"), (-7, "int64"), (2.5, "float64"), (1 - 2j, "complex128")]:
        entries.append(("scalar", name, (), np.asarray(py, dtype=name)))
        np.save(expected, py)
    out = os.path.join(work, "c.eqx")
    run_tool_write(work, entries, out)
    with open(out, "rb") as f:
        got = f.read()
    want = expected.getvalue()
    check(len(got) == len(want), "C output is %d bytes, numpy's %d" % (len(got), len(want)))
    if got != want:
        at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        failures.append("C output differs from np.save at byte %d: C %r, numpy %r"
                        % (at, got[at:at + 80], want[at:at + 80]))
    # numpy reads C's stream back record by record.
    with open(out, "rb") as f:
        for kind, name, shape, arr in entries:
            back = np.load(f)
            check(back.dtype == arr.dtype and back.shape == arr.shape
                  and np.array_equal(back, arr), "np.load of C record %s %s" % (name, shape))
        check(f.read() == b"", "bytes after the last C record")
    print("C writer: %d records (%d with 1 or 64 pad spaces), %d bytes, identical to np.save"
          % (len(entries), edges, len(got)))

    # Writing to a pipe (stdout) gives the same bytes.
    lines = "".join("%s %s %s %s\n" % (k, n, shape_arg(s), os.path.join(work, "in-%d.raw" % i))
                    for i, (k, n, s, a) in enumerate(entries))
    piped = subprocess.run([TOOL, "write", "-"], input=lines.encode(), stdout=subprocess.PIPE,
                           check=True).stdout
    check(piped == got, "npy-tool write to a pipe differs from the file")


def jnp_style_bf16(f, raw_u16, shape):
    """What jnp.save writes for bfloat16: descr '<V2' (ml_dtypes is not needed)."""
    np.lib.format.write_array_header_1_0(
        f, {"descr": "<V2", "fortran_order": False, "shape": shape})
    f.write(raw_u16.astype("<u2").tobytes())


def test_c_reads_numpy(work):
    path = os.path.join(work, "numpy.eqx")
    expect = []  # (dtype name, shape, native C-order bytes)
    with open(path, "wb") as f:
        for name in DTYPES:
            for shape in SHAPES:
                arr = values(name, shape)
                np.save(f, arr)
                expect.append((name, shape, arr.tobytes()))
                # Big-endian variant of every multi-byte dtype.
                if arr.dtype.itemsize > 1:
                    np.save(f, arr.astype(arr.dtype.newbyteorder(">")))
                    expect.append((name, shape, arr.tobytes()))
                # Fortran order (numpy writes fortran_order True only when
                # the array is F- but not C-contiguous).
                if len(shape) >= 2 and 0 not in shape and sum(d > 1 for d in shape) >= 2:
                    fa = np.asfortranarray(arr)
                    np.save(f, fa)
                    expect.append((name, shape, arr.tobytes()))
                    np.save(f, np.asfortranarray(arr.astype(arr.dtype.newbyteorder(">"))))
                    expect.append((name, shape, arr.tobytes()))
        # Versions 2.0 and 3.0.
        for version in [(2, 0), (3, 0)]:
            arr = values("float32", (2, 3, 4))
            np.lib.format.write_array(f, arr, version=version)
            expect.append(("float32", (2, 3, 4), arr.tobytes()))
            np.lib.format.write_array(f, np.asfortranarray(values("int16", (3, 5))),
                                      version=version)
            expect.append(("int16", (3, 5), values("int16", (3, 5)).tobytes()))
        # bfloat16: a genuine 2-byte void and the jnp.save '<V2' form.
        raw = (np.arange(6, dtype=np.uint32) * 4099 + 0x3f80).astype(np.uint16)
        np.save(f, raw.view("V2").reshape(2, 3))
        expect.append(("bfloat16", (2, 3), raw.tobytes()))
        jnp_style_bf16(f, raw, (6,))
        expect.append(("bfloat16", (6,), raw.tobytes()))
        # Native '=' descrs and Python scalars.
        for py in [True, 123456789012, -0.125, 3 + 4j]:
            np.save(f, py)
            a = np.asarray(py)
            expect.append((a.dtype.name, (), a.tobytes()))
    for mode in ["path", "map", "pipe"]:
        got = run_tool_read(path, os.path.join(work, "out-" + mode), mode)
        check(len(got) == len(expect), "%s: C read %d records, expected %d"
              % (mode, len(got), len(expect)))
        for k, (g, e) in enumerate(zip(got, expect)):
            check(g == e, "%s: record %d: C read %s %s (%d bytes), expected %s %s (%d bytes)"
                  % (mode, k, g[0], g[1], len(g[2]), e[0], e[1], len(e[2])))
    print("C reader: %d numpy records equal by path, mapped and through a pipe" % len(expect))


def test_aligned_records_load_in_numpy(work):
    entries = [("array", name, (3, 5), values(name, (3, 5))) for name in DTYPES]
    out = os.path.join(work, "aligned.eqx")
    run_tool_write(work, entries, out, align=4096)
    offset = 0
    with open(out, "rb") as f:
        for kind, name, shape, arr in entries:
            back = np.load(f)
            check(np.array_equal(back, arr) and back.dtype == arr.dtype,
                  "aligned record %s" % name)
            data_start = f.tell() - arr.nbytes
            check(data_start % 4096 == 0, "aligned record %s starts at %d" % (name, data_start))
            offset += 1
        check(f.read() == b"", "bytes after the aligned records")
    print("aligned writer: %d records load with np.load, data at multiples of 4096" % offset)


def main():
    work = tempfile.mkdtemp(prefix="leafio-interop-")
    try:
        test_c_writes_like_numpy(work)
        test_c_reads_numpy(work)
        test_aligned_records_load_in_numpy(work)
    finally:
        shutil.rmtree(work)
    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
