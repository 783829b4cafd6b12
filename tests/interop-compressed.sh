#!/bin/sh
# The Python reader of docs/FORMAT.md against compressed files (see interop-compressed.py).
exec "${LF_PYTHON:?LF_PYTHON is not set}" "${LF_TEST_SRCDIR:-.}/interop-compressed.py"
