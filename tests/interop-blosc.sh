#!/bin/sh
# c-blosc records between C and Python (python3-blosc), both ways (see interop_blosc.py).
exec "${LF_PYTHON:?LF_PYTHON is not set}" "${LF_TEST_SRCDIR:-.}/interop_blosc.py"
