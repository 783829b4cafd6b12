#!/bin/sh
# Python writes a .eqx (one np.save a leaf, as Equinox) and its skeleton with
# tools/eqx_skeleton.py; C loads the file through the skeleton; Python checks
# that every leaf has the same path, dtype, shape and bytes.
set -eu
: "${LF_PYTHON:?LF_PYTHON must name a Python with numpy}"
: "${LF_TEST_SRCDIR:?}" "${LF_TEST_BUILDDIR:?}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-skeleton.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

"$LF_PYTHON" "$LF_TEST_SRCDIR/interop-skeleton.py" write "$tmp"
"$LF_TEST_BUILDDIR/interop-skeleton-load" "$tmp/model.eqx" "$tmp/model.skeleton.json" \
  > "$tmp/loaded.txt"
"$LF_PYTHON" "$LF_TEST_SRCDIR/interop-skeleton.py" compare "$tmp" "$tmp/loaded.txt"

# A skeleton that does not describe the file is an error, not garbage.
"$LF_PYTHON" "$LF_TEST_SRCDIR/interop-skeleton.py" wrong-skeleton "$tmp"
if "$LF_TEST_BUILDDIR/interop-skeleton-load" "$tmp/model.eqx" "$tmp/wrong.skeleton.json" \
     > /dev/null 2> "$tmp/wrong.err"; then
  echo "FAIL: a wrong skeleton loaded" >&2
  exit 1
fi
grep -q "expected float32 array of shape (3, 2), found float32 array of shape (2, 3)" "$tmp/wrong.err" || { cat "$tmp/wrong.err" >&2; exit 1; }
echo "interop-skeleton: ok"
