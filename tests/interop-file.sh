#!/bin/sh
# Random access to a file numpy wrote: Python writes a .eqx (one np.save a
# leaf, as Equinox) and its skeleton with tools/eqx_skeleton.py; C opens it
# with lf_file_open given the skeleton and reads every leaf alone; Python
# checks every path, dtype, shape and byte.  Then, when strace works here,
# reading one leaf is shown to pread exactly that record's bytes.
set -eu
: "${LF_PYTHON:?LF_PYTHON must name a Python with numpy}"
: "${LF_TEST_SRCDIR:?}" "${LF_TEST_BUILDDIR:?}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-file.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
load="$LF_TEST_BUILDDIR/interop-skeleton-load"

"$LF_PYTHON" "$LF_TEST_SRCDIR/interop-skeleton.py" write "$tmp"
"$load" --random-access "$tmp/model.eqx" "$tmp/model.skeleton.json" > "$tmp/loaded.txt"
"$LF_PYTHON" "$LF_TEST_SRCDIR/interop-skeleton.py" compare "$tmp" "$tmp/loaded.txt"

# A skeleton that does not describe the file fails at open, naming the leaf.
"$LF_PYTHON" "$LF_TEST_SRCDIR/interop-skeleton.py" wrong-skeleton "$tmp"
if "$load" --random-access "$tmp/model.eqx" "$tmp/wrong.skeleton.json" > /dev/null \
     2> "$tmp/wrong.err"; then
  echo "FAIL: a wrong skeleton opened" >&2
  exit 1
fi
grep -q "(\['layers'\]\[0\]\['weight'\]): expected float32 array of shape (3, 2)" "$tmp/wrong.err" \
  || { cat "$tmp/wrong.err" >&2; exit 1; }

if ! strace -f -o /dev/null true 2> /dev/null; then
  echo "interop-file: ok (strace unavailable here: the pread check is left to test-file)"
  exit 0
fi
leaf="['noise']"
# LeakSanitizer cannot run under ptrace (sanitizer builds).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  strace -e trace=pread64,read,access -o "$tmp/trace" \
  "$load" --read-one "$tmp/model.eqx" "$tmp/model.skeleton.json" "$leaf" > "$tmp/one.txt"
read -r offset size < "$tmp/one.txt"
# After the marker: only preads inside [offset, offset + size), size bytes in all.
sed -n '/leafio-read-starts-here/,$p' "$tmp/trace" | "$LF_PYTHON" -c '
import re, sys
offset, size = int(sys.argv[1]), int(sys.argv[2])
total = 0
for line in sys.stdin:
    m = re.match(r"pread64\(\d+, .*, (\d+), (\d+)\) += (\d+)", line)
    if m:
        count, at, got = map(int, m.groups())
        assert offset <= at and at + got <= offset + size, line
        total += got
    elif re.match(r"read\(\d+, \"\\x93NUMPY", line):
        sys.exit("FAIL: the record was read without pread: " + line)
assert total == size, (total, size)
print(f"one leaf: {total} bytes read by pread, the record is {size}")
' "$offset" "$size"
echo "interop-file: ok"
