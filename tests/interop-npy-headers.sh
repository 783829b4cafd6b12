#!/bin/sh
# Every npy header numpy reads, leafio reads; what numpy refuses, leafio
# refuses (interop_npy_headers.py, with the Python configure found).
set -e
: "${LF_PYTHON:?LF_PYTHON is not set (run through make check)}"
srcdir=${LF_TEST_SRCDIR:-$(dirname "$0")}
builddir=${LF_TEST_BUILDDIR:-$(pwd)}
exec "$LF_PYTHON" "$srcdir/interop_npy_headers.py" "$builddir/npy-tool"
