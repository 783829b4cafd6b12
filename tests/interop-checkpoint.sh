#!/bin/sh
# A checkpoint manager's directory, written by examples/train-loop, read in
# Python with numpy alone (np.load once a leaf).
set -eu
: "${LF_PYTHON:?LF_PYTHON must name a Python with numpy}"
: "${LF_TEST_SRCDIR:?}" "${LF_TOP_BUILDDIR:=..}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-ckpt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$LF_TOP_BUILDDIR/examples/train-loop" "$tmp/run" 50 10 > /dev/null
"$LF_PYTHON" "$LF_TEST_SRCDIR/interop-checkpoint.py" "$tmp/run" "30 40 50"
echo "interop-checkpoint: ok"
