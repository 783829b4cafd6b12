"""leafio for Python: Equinox's ``.eqx`` files, with leafio's codecs.

    leafio.save(path, tree, spec=None)      write a tree's leaves
    leafio.load(path, like, spec=None)      read them back into ``like``'s structure
    leafio.skeleton(tree)                   the skeleton JSON the C tools' --like take
    leafio.open(path, like=None, spec=None) random access: one leaf at a time

Trees are dicts (string keys, in sorted order), lists, tuples, namedtuples
and None, with numpy arrays and Python or numpy scalars as leaves; other
leaves are opaque (not saved, kept from ``like`` on load).  A ``spec`` is a
codec reference (``"float16"``, ``"compressed(level=19, inner=float16)"``)
or a tree prefix whose leaves are references, as in the C library.  Files
are byte for byte the C library's for the same tree and spec.
"""

import builtins
import os
import secrets

import numpy as np

from . import codecs, npyfmt
from .errors import LeafioError
from .file import File
from .refs import Reference, parse
from .skeleton import Opaque, from_skeleton, skeleton, skeleton_object
from .tree import Abstract, leaf_kind, rebuild, walk

__all__ = ["save", "load", "open", "skeleton", "skeleton_object", "from_skeleton",
           "Abstract", "Opaque", "File", "LeafioError", "Reference", "parse", "codecs"]
__version__ = "0.2.0"

DEFAULT_CODEC = "npy"


def _with_suffix(path):
    path = os.fspath(path)
    return path if os.path.splitext(path)[1] else path + ".eqx"


def _spec(spec):
    """A spec with every codec leaf parsed (references checked up front)."""
    if spec is None:
        return parse(DEFAULT_CODEC)
    if isinstance(spec, (str, Reference)):
        ref = parse(spec)
        codecs.get(ref.name)
        return ref
    if isinstance(spec, dict):
        return {k: _spec(v) for k, v in spec.items()}
    if isinstance(spec, tuple) and hasattr(type(spec), "_fields"):
        return type(spec)(*(_spec(v) for v in spec))
    if isinstance(spec, (list, tuple)):
        return type(spec)(_spec(v) for v in spec)
    raise LeafioError(f"a spec leaf is a codec reference, found {type(spec).__name__}")


def _fail(name, index, offset, path, error):
    raise LeafioError(f"{name}: record {index} at offset {offset} ({path or 'root'}): "
                      f"{error}") from error


def write_leaves(f, tree, spec=None, name="<stream>"):
    """Writes ``tree``'s records to the binary file object ``f``; returns the
    number of records."""
    count = [0]

    def visit(path, leaf, ref):
        if not codecs.handles(ref, leaf):
            return
        offset = f.tell()
        try:
            if isinstance(leaf, Abstract):
                raise LeafioError("cannot save an abstract array (dtype and shape only)")
            codecs.write(f, ref, leaf)
        except (LeafioError, ValueError, TypeError, OverflowError) as e:
            _fail(name, count[0], offset, path, e)
        count[0] += 1

    walk(tree, _spec(spec), visit)
    return count[0]


def save(path, tree, spec=None):
    """Saves ``tree``'s leaves to ``path`` (".eqx" added without a suffix), or
    to a binary file object.  A path is written to a temporary file renamed
    over it when complete, so a failed save keeps the previous file."""
    if hasattr(path, "write"):
        write_leaves(path, tree, spec, getattr(path, "name", "<stream>"))
        return
    path = _with_suffix(path)
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    # Created as open() would create the file: 0666 less the umask.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write_leaves(f, tree, spec, path)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def fit_leaf(like, value):
    """``value`` as the leaf ``like`` asks for: arrays must match dtype and
    shape; scalars convert to like's type (``type(x)(out.item())``)."""
    kind = leaf_kind(like)
    if kind == "array":
        if not isinstance(value, np.ndarray):
            raise LeafioError(f"expected {npyfmt.describe_array(like.dtype, like.shape)}, "
                              f"found a {type(value).__name__}")
        npyfmt.check_like(like, value.dtype, value.shape)
        return value
    array = np.asarray(value)
    if array.size != 1:
        npyfmt.check_like(like, array.dtype, array.shape)
    item = array.reshape(()).item()
    if isinstance(like, np.generic):
        return like.dtype.type(item)
    if isinstance(like, bool):
        return bool(item)
    if isinstance(item, complex) and not isinstance(like, complex):
        raise LeafioError(f"expected a {type(like).__name__} scalar, found a complex value")
    return type(like)(item)


def read_leaves(f, like, spec=None, name="<stream>"):
    """Reads records from ``f`` into a new tree of ``like``'s structure."""
    count = [0]

    def visit(path, leaf, ref):
        if not codecs.handles(ref, leaf):
            return leaf
        offset = f.tell()
        try:
            value = fit_leaf(leaf, codecs.read(f, ref, leaf))
        except (LeafioError, ValueError, TypeError, OverflowError) as e:
            _fail(name, count[0], offset, path, e)
        count[0] += 1
        return value

    return rebuild(like, _spec(spec), visit)


def load(path, like, spec=None):
    """Loads the file at ``path`` (or a binary file object) into a new tree
    of ``like``'s structure.  ``like`` may be a tree, or a skeleton (its JSON text
    from :func:`skeleton`).  A path with bytes after the last record
    is refused: ``like`` does not describe the file."""
    if isinstance(like, str):
        like = from_skeleton(like)
    if hasattr(path, "read"):
        return read_leaves(path, like, spec, getattr(path, "name", "<stream>"))
    path = _with_suffix(path)
    with _open_file(path) as f:
        tree = read_leaves(f, like, spec, path)
        end = f.tell()
        left = os.fstat(f.fileno()).st_size - end
    if left:
        raise LeafioError(f"{path}: {left} bytes left after the last leaf at offset {end}: "
                          f"like does not describe the whole file")
    return tree


def _open_file(path):
    try:
        return builtins.open(path, "rb")
    except OSError as e:
        raise LeafioError(f"cannot open {path}: {e.strerror}") from None


def open(path, like=None, spec=None, verify=True):   # noqa: A001 - the module's reader
    """Opens ``path`` for random access; see :class:`File`."""
    return File(_with_suffix(path), like, spec, verify)
