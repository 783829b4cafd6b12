"""Codecs: one module each, as the C library has one plugin each.

A codec module exposes

``NAME``
    the codec's name in references (``"skip-arrays"``).
``read(f, like, options)``
    reads exactly one record from the binary file object ``f`` (positioned
    at the record's first byte) and returns a numpy array, or a Python or
    numpy scalar.  ``like`` is the leaf the record is loaded for: a numpy
    array, a :class:`leafio.Abstract` (dtype and shape only), a scalar, or
    None when the caller has no template (the record is then read as it
    describes itself).  The loader checks the result against ``like``
    afterwards and converts scalars to ``like``'s type.
``write(f, value, options)``
    writes one record for the leaf ``value``: a numpy array, or a Python or
    numpy scalar.  ``f`` is a binary file object; ``f.tell()`` gives the
    record's offset in the file being written (``npy(align=N)`` needs it).
    Use only ``f.write`` and ``f.tell``: a save with a manifest passes a
    writer that hashes the record as it goes by, and has nothing else.

and optionally

``handles(leaf, options)``
    whether ``leaf`` has a record at all.  It is asked about the tree's leaf
    on save and about ``like``'s leaf on load, so both agree.  Without it,
    arrays and scalars have records and other (opaque) leaves have none.
``describe(f, like, options)``
    a dict about the record at ``f``'s position, reading as little as it
    can and leaving ``f`` anywhere: ``size`` (the record's bytes), and for
    records whose data lies in the file as numpy's would (npy), ``data_at``
    (offset of the data from the record's start), ``dtype``, ``shape`` and
    ``fortran``, so :func:`leafio.open` can map the data.  Without it,
    indexing a file without a manifest reads the record in full.

``options`` is a dict from option name to text, parsed from the reference:
``compressed(level=19, inner=float16(overflow=error))`` gives
``{"level": "19", "inner": "float16(overflow=error)"}``.  Nested references
stay text: a wrapping codec hands its ``inner`` text to :func:`read` /
:func:`write` / :func:`handles` below, which resolve it.  Quoted values are
given unquoted.

The registry below maps each name to its module.  A module whose import
fails (a missing optional package) is reported only when a reference names
its codec.
"""

import functools
import importlib

from ..errors import LeafioError
from ..refs import parse
from ..tree import leaf_kind

__all__ = ["MODULES", "get", "names", "read", "write", "handles", "describe",
           "check_options", "int_option", "choice_option"]

# Codec name -> module in this package.
MODULES = {
    "npy": "npy",
    "skip-arrays": "skip_arrays",
    "float16": "float16",
    "compressed": "compressed",
    "cast": "cast",
    "blosc": "blosc",      # needs python3-blosc
}

_loaded = {}


def names():
    """The names of the registered codecs, sorted."""
    return sorted(MODULES)


def get(name):
    """The module of codec ``name``; raises LeafioError naming the codec when
    it is unknown or its module cannot be imported."""
    module = _loaded.get(name)
    if module is not None:
        return module
    if name not in MODULES:
        raise LeafioError(f"unknown codec '{name}' (known: {', '.join(names())})")
    try:
        module = importlib.import_module(f".{MODULES[name]}", __name__)
    except ImportError as e:
        raise LeafioError(f"codec '{name}' is not available in Python: {e}") from None
    if getattr(module, "NAME", None) != name:
        raise LeafioError(f"codec module {module.__name__} declares NAME "
                          f"{getattr(module, 'NAME', None)!r}, expected '{name}'")
    _loaded[name] = module
    return module


@functools.lru_cache(maxsize=256)
def _resolve_text(text):
    ref = parse(text)
    return get(ref.name), ref.option_text()


def _resolve(reference):
    """(module, options) of a reference; cached, as every leaf asks."""
    return _resolve_text(str(reference))


def read(f, reference, like):
    """Reads one record with the codec ``reference`` (text or Reference)."""
    module, options = _resolve(reference)
    return module.read(f, like, options)


def write(f, reference, value):
    """Writes one record of ``value`` with the codec ``reference``."""
    module, options = _resolve(reference)
    module.write(f, value, options)


def handles(reference, leaf):
    """Whether the codec gives ``leaf`` a record."""
    module, options = _resolve(reference)
    if hasattr(module, "handles"):
        return module.handles(leaf, options)
    return leaf_kind(leaf) != "opaque"


def describe(f, reference, like):
    """The codec's description of the record at ``f`` (see above), or None
    when the codec cannot describe records."""
    module, options = _resolve(reference)
    if not hasattr(module, "describe"):
        return None
    return module.describe(f, like, options)


def check_options(name, options, known):
    """Refuses options the codec does not know, as the C library does."""
    for key in options:
        if key not in known:
            raise LeafioError(f"codec '{name}': unknown option '{key}' "
                              f"(expected {', '.join(known) if known else 'none'})")


def int_option(name, options, key, low, high, default):
    text = options.get(key)
    if text is None:
        return default
    try:
        value = int(text, 10)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise LeafioError(f"codec '{name}': option {key}={text}: expected an integer "
                          f"from {low} to {high}")
    return value


def choice_option(name, options, key, choices):
    """The option's value, one of ``choices`` (the first is the default)."""
    text = options.get(key, choices[0])
    if text not in choices:
        raise LeafioError(f"codec '{name}': option {key}={text}: expected one of "
                          f"{', '.join(choices)}")
    return text
