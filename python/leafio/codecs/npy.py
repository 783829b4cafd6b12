"""npy: arrays and scalars as numpy.save writes them (the default codec).

Option: align=N (a multiple of 64, at most 4096) pads each header so the
record's data starts at a multiple of N from the start of the file."""

from .. import npyfmt
from ..errors import LeafioError
from . import check_options, int_option

NAME = "npy"


def _align(options):
    check_options(NAME, options, ("align",))
    align = int_option(NAME, options, "align", 0, 4096, 0)
    if align % 64:
        raise LeafioError(f"codec 'npy': option align={align}: expected a multiple of 64")
    return align


def write(f, value, options):
    npyfmt.write(f, npyfmt.leaf_array(value), f.tell(), _align(options))


def read(f, like, options):
    _align(options)
    header = npyfmt.read_header(f)
    npyfmt.check_like(like, header.dtype, header.shape)
    return npyfmt.read_data(f, header)


def describe(f, like, options):
    _align(options)
    header = npyfmt.read_header(f)
    return {"size": header.size + header.data_size, "data_at": header.size,
            "dtype": header.dtype, "shape": header.shape, "fortran": header.fortran}
