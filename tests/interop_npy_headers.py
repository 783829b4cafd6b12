"""Reading every npy header numpy reads (and refusing what it refuses).

Usage: interop_npy_headers.py PATH/TO/npy-tool

numpy's reader passes the header dict through Python's literal parser and
the descr through np.dtype(), so it accepts more than its writer produces.
This test is differential: for many headers, written by numpy's own header
writer (any dict it is given) and by hand, it asks numpy whether it reads
them and asks leafio (npy-tool read); both must agree, and where both read
a record they must read the same dtype, shape and values.

1. descr spellings: every byte order ('', '<', '>', '=', '|') with every
   one-character type code, every kind+size, and every type name np.dtype()
   knows, limited to the dtypes leafio supports; spellings numpy refuses
   and dtypes leafio does not support are refused.
2. dict variations: whitespace, key order, trailing commas, quotes,
   Python 2 `L` suffixes (versions 1.0 and 2.0 only, as numpy).
"""

import io
import itertools
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

TOOL = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="leafio-npy-headers-")
warnings.simplefilter("ignore")  # deprecated aliases ('bool8', 'int0') still read

SUPPORTED = {np.dtype(x) for x in ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8",
                                   "f2", "f4", "f8", "c8", "c16"]}
SUPPORTED |= {d.newbyteorder(">") for d in SUPPORTED}

ORDERS = ["", "<", ">", "=", "|"]
CODES = "?bBhHiIlLqQpPefdgFDGnNcSUVOMma"
NAMES = ["bool", "bool_", "bool8", "int8", "uint8", "int16", "uint16", "int32", "uint32",
         "int64", "uint64", "float16", "float32", "float64", "complex64", "complex128",
         "half", "single", "double", "float", "int", "complex", "byte", "ubyte", "short",
         "ushort", "intc", "uintc", "long", "ulong", "longlong", "ulonglong", "intp",
         "uintp", "int_", "uint", "float_", "complex_", "longfloat", "cfloat", "cdouble",
         "csingle", "clongfloat", "longdouble", "int0", "uint0", "singlecomplex",
         "longcomplex", "str", "object", "bytes", "void", "bfloat16", "Float64", "f8 ",
         " f8", "<<f8", "f08", "<f08", "i 4", "F8", "d8", "float64le"]


def descr_candidates():
    out = set()
    for order in ORDERS:
        for c in CODES:
            out.add(order + c)
        for kind in "biufcV":
            for n in range(0, 17):
                out.add(f"{order}{kind}{n}")
        for name in NAMES:
            out.add(order + name)
    return sorted(out)


def numpy_reads(header_bytes):
    """(dtype, shape, fortran) as numpy reads the record's header, or None."""
    try:
        f = io.BytesIO(header_bytes)
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version)
        return dtype, shape, fortran
    except Exception:
        return None


def leafio_reads(record_bytes):
    """[(dtype name, shape)] as npy-tool reads the record, or None."""
    path = os.path.join(WORK, "record.npy")
    out = os.path.join(WORK, "out")
    os.makedirs(out, exist_ok=True)
    with open(path, "wb") as f:
        f.write(record_bytes)
    proc = subprocess.run([TOOL, "read", path, out], capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    index, name, shape = proc.stdout.split("\n")[0].split(" ")
    with open(os.path.join(out, index + ".bin"), "rb") as f:
        data = f.read()
    return name, eval(shape.replace("_", " "), {}), data


def header_by_numpy(d, version):
    f = io.BytesIO()
    np.lib.format._write_array_header(f, d, version)
    return f.getvalue()


def header_by_hand(text, version=(1, 0)):
    """An npy header around the dict `text`, padded as numpy pads."""
    body = text.encode("latin1")
    len_size = 2 if version == (1, 0) else 4
    total = 6 + 2 + len_size + len(body) + 1
    body += b" " * ((64 - total % 64) % 64) + b"\n"
    length = len(body).to_bytes(len_size, "little")
    return b"\x93NUMPY" + bytes(version) + length + body


def data_for(dtype, shape):
    n = int(np.prod(shape))
    values = np.arange(n) % 100
    return np.asarray(values).astype(dtype).reshape(shape)


def compare(what, header, shape=(2, 3)):
    """numpy and leafio agree on `header` followed by data for `shape`."""
    by_numpy = numpy_reads(header)
    if by_numpy is not None and by_numpy[0] not in SUPPORTED:
        by_numpy = None  # numpy reads it, but it is no dtype leafio supports
    data = b""
    if by_numpy is not None:
        data = data_for(by_numpy[0], by_numpy[1]).tobytes(
            order="F" if by_numpy[2] else "C")
    else:
        data = bytes(8 * int(np.prod(shape)))
    by_leafio = leafio_reads(header + data)
    if (by_numpy is None) != (by_leafio is None):
        raise AssertionError(f"{what}: numpy {'reads' if by_numpy else 'refuses'} it, "
                             f"leafio {'reads' if by_leafio else 'refuses'} it")
    if by_numpy is None:
        return False
    dtype, nshape, fortran = by_numpy
    name, lshape, raw = by_leafio
    assert name == dtype.name, (what, name, dtype.name)
    assert tuple(lshape) == tuple(nshape), (what, lshape, nshape)
    expected = data_for(dtype, nshape).astype(dtype.newbyteorder("="))
    got = np.frombuffer(raw, dtype=dtype.newbyteorder("=")).reshape(nshape)
    assert np.array_equal(got, expected), what
    return True


def test_descr_spellings():
    read = refused = 0
    for descr in descr_candidates():
        if descr in ("<V2", "=V2", "|V2"):
            continue  # leafio reads a 2-byte void as bfloat16 (jnp.save writes it so)
        d = {"descr": descr, "fortran_order": False, "shape": (2, 3)}
        for version in ((1, 0), (3, 0)):
            try:
                header = header_by_numpy(d, version)
            except Exception:
                continue
            if compare(f"descr {descr!r} (version {version})", header):
                read += 1
            else:
                refused += 1
    assert read > 150, read
    print(f"descr spellings: {read} headers read as numpy reads them, {refused} refused "
          f"as numpy refuses them (or leafio does not support the dtype)")


DICT_VARIANTS = [
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr':'<f8','fortran_order':False,'shape':(2,3)}",
    "{ 'descr' : '<f8' , 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }",
    "{\t'descr':\t'<f8',\n'fortran_order': False,\n 'shape': (2,\n 3)}",
    "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 3)}",
    "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3)}",
    "{'descr': 'float32', 'fortran_order': False, 'shape': (6,)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (6L,)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': ()}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1_000,)}",
    # Python literal spellings beyond numpy's writer: literal_eval reads them
    "{'descr': '<i8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}",
    "{'shape': (9,), 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0x2, 0o3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0b10, +3, )}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (-0, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': ((2), (3))}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': ((2, 3))}",
    "({'descr': ('<f8'), 'fortran_order': (False), 'shape': (2, -(0))})",
    "{'descr': '<f8', # the dtype\n 'fortran_order': False, 'shape': (2, 3)} # done",
    "{'descr': \\\n '<f8', 'fortran_order': False, 'shape': (2, 3)}",
    "{u'descr': r'<f8', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr': '<' 'f8', 'fortran_order': False, 'sha' \"pe\": (2, 3)}",
    "{'descr': '''<f8''', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr': '<\\x668', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr': '<\\u0066\\70', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0x_2, 3L)}",
    # refused by numpy
    "{'descr': '<f8', 'fortran_order': False, 'shape': (--2, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': ((2, 3),)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': ((2, 3))L}",
    "{'descr': b'<f8', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr': ur'<f8', 'fortran_order': False, 'shape': (2, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (0x, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)} # x\n y",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (6)}",
    "{'descr': '<f8', 'fortran_order': False}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}",
    "{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': [2, 3]}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3),,}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3.0)}",
    "{'descr': '<f8' 'fortran_order': False, 'shape': (2, 3)}",
    "['descr', '<f8']",
]


def test_dict_variations():
    agreed = 0
    for text in DICT_VARIANTS:
        keys = None
        for version in ((1, 0), (2, 0), (3, 0)):
            compare(f"dict {text!r} (version {version})", header_by_hand(text, version))
            agreed += 1
    # Every order of the three keys.
    items = ["'descr': '>i2'", "'fortran_order': False", "'shape': (3, 2,)"]
    for perm in itertools.permutations(items):
        text = "{" + ", ".join(perm) + "}"
        assert compare(f"dict {text!r}", header_by_hand(text)), text
        agreed += 1
    print(f"dict variations: numpy and leafio agree on {agreed} headers")


def main():
    failed = 0
    for name, fn in [(n, f) for n, f in globals().items() if n.startswith("test_")]:
        try:
            fn()
            print(f"PASS: {name}")
        except Exception as e:
            failed += 1
            print(f"FAIL: {name}: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
