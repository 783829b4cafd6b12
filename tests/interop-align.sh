#!/bin/sh
# numpy reads files written with npy(align=64): np.load, record after
# record from one open file (as Equinox loads), gives the values leafio
# saved, and every record's data starts at a multiple of 64.  The file comes
# from test-fastpath's "align" case (test_align64_zero_copy), via LF_ALIGN_OUT.
set -eu
: "${LF_PYTHON:?}" "${LF_TEST_BUILDDIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
LF_ALIGN_OUT="$tmp/align64.eqx" CK_RUN_SUITE=fastpath CK_RUN_CASE=align \
  "$LF_TEST_BUILDDIR/test-fastpath" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
test -s "$tmp/align64.eqx"
"$LF_PYTHON" - "$tmp/align64.eqx" <<'PY'
import sys
import numpy as np
from numpy.lib import format as fmt

# test-fastpath.c's awkward_tree(): (dtype, n, seed); bytes follow patterned().
leaves = [("bool", 3, 1), ("float64", 5, 2), ("uint8", 1, 3),
          ("float32", (1 << 20) // 4 + 3, 4), ("int8", 5, 5),
          ("complex128", (9 << 20) // 16 + 1, 6), ("bool", 1, 7),
          ("float16", 4097, 8), ("int64", 7, 9)]
with open(sys.argv[1], "rb") as f:
    for k, (dt, n, seed) in enumerate(leaves):
        start = f.tell()
        version = fmt.read_magic(f)
        fmt._read_array_header(f, version)
        if f.tell() % 64:
            sys.exit("record %d: data at offset %d, not a multiple of 64" % (k, f.tell()))
        f.seek(start)
        a = np.load(f)
        i = np.arange(n * np.dtype(dt).itemsize, dtype=np.int64)
        want = ((i * 131 + seed * 7 + (i >> 12)) & 0xFF).astype(np.uint8)
        if dt == "bool":
            want &= 1
        if a.dtype != np.dtype(dt) or a.shape != (n,):
            sys.exit("record %d: %s %s, expected %s (%d,)" % (k, a.dtype, a.shape, dt, n))
        if a.tobytes() != want.tobytes():
            sys.exit("record %d (%s): values differ" % (k, dt))
    if f.read(1):
        sys.exit("bytes left after the last record")
print("np.load read all %d aligned records" % len(leaves))
PY
