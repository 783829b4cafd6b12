"""skip-arrays: arrays are not saved (like's array is kept on load); scalars
go through the inner codec (option inner=, npy by default)."""

from ..tree import leaf_kind
from . import check_options
from . import handles as inner_handles
from . import read as inner_read
from . import write as inner_write
from . import describe as inner_describe

NAME = "skip-arrays"


def _inner(options):
    check_options(NAME, options, ("inner",))
    return options.get("inner", "npy")


def handles(leaf, options):
    return leaf_kind(leaf) == "scalar" and inner_handles(_inner(options), leaf)


def write(f, value, options):
    inner_write(f, _inner(options), value)


def read(f, like, options):
    return inner_read(f, _inner(options), like)


def describe(f, like, options):
    return inner_describe(f, _inner(options), like)
