#!/bin/sh
# Interop with numpy: runs interop_npy.py with the Python configure found.
set -e
: "${LF_PYTHON:?LF_PYTHON is not set (run through make check)}"
srcdir=${LF_TEST_SRCDIR:-$(dirname "$0")}
builddir=${LF_TEST_BUILDDIR:-$(pwd)}
exec "$LF_PYTHON" "$srcdir/interop_npy.py" "$builddir/npy-tool"
