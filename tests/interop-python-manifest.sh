#!/bin/sh
# Manifests between the Python package and the C library, both ways (see
# interop-python-manifest.py).  Never skipped: numpy and zstandard must be
# importable by the configured Python.
set -eu
: "${LF_PYTHON:?LF_PYTHON must name a Python with numpy}"
: "${LF_TEST_SRCDIR:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-python.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
PYTHONDONTWRITEBYTECODE=1 TMPDIR=$tmp "$LF_PYTHON" "$LF_TEST_SRCDIR/interop-python-manifest.py"
