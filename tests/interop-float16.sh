#!/bin/sh
# float16 against numpy (see interop-float16.py).
exec "${LF_PYTHON:?LF_PYTHON is not set}" "${LF_TEST_SRCDIR:-.}/interop-float16.py"
