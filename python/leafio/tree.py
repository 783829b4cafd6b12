"""Trees as Equinox and JAX see them, and as the C library stores them.

Containers: dict (string keys, visited in sorted order), list, tuple,
namedtuple (fields in order), and None (an empty subtree: no leaves).
Leaves: numpy arrays and :class:`Abstract` arrays (dtype and shape only),
scalars (Python bool/int/float/complex, numpy scalars), and anything else,
which is an opaque leaf: never saved, kept from ``like`` on load.

Paths are JAX's ``keystr`` text: ``['layers'][0].weight``.
"""

import numpy as np

from .errors import LeafioError

__all__ = ["Abstract", "leaf_kind", "walk", "rebuild"]


class Abstract:
    """An array leaf known by dtype and shape only (``jax.ShapeDtypeStruct``'s
    role): what a skeleton's arrays become."""

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype, shape):
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(d) for d in shape)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"Abstract({self.dtype.name}, {self.shape})"

    def __eq__(self, other):
        return (isinstance(other, Abstract) and self.dtype == other.dtype
                and self.shape == other.shape)

    def __hash__(self):
        return hash((self.dtype, self.shape))


def is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def leaf_kind(x):
    """``"array"``, ``"scalar"`` or ``"opaque"`` for a leaf."""
    if isinstance(x, (np.ndarray, Abstract)):
        return "array"
    if isinstance(x, (bool, int, float, complex, np.generic)):
        return "scalar"
    return "opaque"


def is_container(x):
    return x is None or isinstance(x, (dict, list, tuple))


def _check_key(key, path):
    if not isinstance(key, str):
        raise LeafioError(f"{path or 'root'}: dict keys must be strings, found {key!r}")
    return key


def children(node, path):
    """(path of child, child) pairs of a container, in leaf order."""
    if node is None:
        return []
    if is_namedtuple(node):
        return [(f"{path}.{name}", getattr(node, name)) for name in node._fields]
    if isinstance(node, (list, tuple)):
        return [(f"{path}[{i}]", x) for i, x in enumerate(node)]
    keys = sorted(_check_key(k, path) for k in node)
    return [(f"{path}[{k!r}]", node[k]) for k in keys]


def _describe(node):
    if node is None:
        return "None"
    if is_namedtuple(node):
        return f"{type(node).__name__} with fields {list(node._fields)}"
    if isinstance(node, dict):
        return f"a dict with keys {sorted(node)}"
    if isinstance(node, (list, tuple)):
        return f"a {type(node).__name__} of {len(node)}"
    return f"a{'n' if leaf_kind(node)[0] in 'aeiou' else ''} {leaf_kind(node)} leaf"


def _same_layout(spec, node):
    if spec is None or node is None:
        return spec is None and node is None
    if is_namedtuple(spec) or is_namedtuple(node):
        return (is_namedtuple(spec) and is_namedtuple(node)
                and type(spec).__name__ == type(node).__name__ and spec._fields == node._fields)
    if isinstance(spec, dict):
        return isinstance(node, dict) and sorted(spec) == sorted(node)
    return type(spec) in (list, tuple) and type(spec) is type(node) and len(spec) == len(node)


def _is_spec_leaf(spec):
    return not is_container(spec)


def _guides(node, spec, path):
    """The spec at each child of ``node``: a codec leaf covers a whole
    subtree; a spec container must have the node's layout."""
    kids = children(node, path)
    if _is_spec_leaf(spec):
        return [(p, c, spec) for p, c in kids]
    if not _same_layout(spec, node):
        raise LeafioError(f"filter spec is not a prefix of the tree at '{path or 'root'}': "
                          f"spec has {_describe(spec)}, tree has {_describe(node)}")
    return [(p, c, s) for (p, c), (_, s) in zip(kids, children(spec, path))]


def walk(tree, spec, visit, path=""):
    """Calls ``visit(path, leaf, spec_leaf)`` for every leaf in order."""
    if not is_container(tree):
        if not _is_spec_leaf(spec):
            raise LeafioError(f"filter spec is not a prefix of the tree at '{path or 'root'}': "
                              f"spec has {_describe(spec)}, tree has {_describe(tree)}")
        visit(path, tree, spec)
        return
    for child_path, child, child_spec in _guides(tree, spec, path):
        walk(child, child_spec, visit, child_path)


def rebuild(like, spec, visit, path=""):
    """A new tree of ``like``'s structure whose leaves are
    ``visit(path, like_leaf, spec_leaf)``."""
    if not is_container(like):
        if not _is_spec_leaf(spec):
            raise LeafioError(f"filter spec is not a prefix of the tree at '{path or 'root'}': "
                              f"spec has {_describe(spec)}, tree has {_describe(like)}")
        return visit(path, like, spec)
    if like is None:
        return None
    new = {p: rebuild(c, s, visit, p) for p, c, s in _guides(like, spec, path)}
    if is_namedtuple(like):
        return type(like)(*(new[f"{path}.{name}"] for name in like._fields))
    if isinstance(like, (list, tuple)):
        items = [new[f"{path}[{i}]"] for i in range(len(like))]
        return items if isinstance(like, list) else type(like)(items)
    return {k: new[f"{path}[{k!r}]"] for k in like}
