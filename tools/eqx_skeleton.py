#!/usr/bin/env python3
"""Tree skeletons for leafio, written from Python.

A ``.eqx`` file (Equinox's ``tree_serialise_leaves``) carries no structure:
loading it needs a ``like`` tree.  leafio reads that tree from a *skeleton*,
JSON text with the tree's structure and each leaf's dtype and shape
(``lf_tree_from_json``).  This module writes it.

    skeleton(tree)       the skeleton JSON text of a Python tree
    save(path, tree)     the .eqx (one ``np.save`` a leaf, as Equinox) and
                         the skeleton beside it (model.eqx -> model.skeleton.json)

Trees: nested dict (string keys), list, tuple, namedtuple and None, with
numpy arrays, numpy scalars and Python bool/int/float/complex as leaves
(Python scalars become bool/int64/float64/complex128 scalars, as Equinox
saves them); anything else is an opaque leaf, which is not saved.  When JAX
is importable, any registered pytree (an ``eqx.Module``, say) works too: its
children are found with ``jax.tree_util``, in JAX's leaf order.

Leaf order is JAX's: dict keys sorted, namedtuple and struct fields in order.

Skeleton forms (see leafio's include/leafio/spec.h):
    null                                   None
    [a, b]                                 list
    {"k": v}                               dict (a key starting with '$' is written "$$...")
    {"$tuple": [a, b]}                     tuple
    {"$struct": "Name", "field": v, ...}   namedtuple or other node with named fields
    {"dtype": "float32", "shape": [2, 3]}  array
    {"scalar": "int64", "value": 3}        scalar
    {"opaque": "function"}                 anything else

As a script:
    eqx_skeleton.py weights.npz                  print the skeleton of an .npz (a dict)
    eqx_skeleton.py weights.npz --save model.eqx write model.eqx and model.skeleton.json
    eqx_skeleton.py mypkg.mod:build_model ...    a module attribute (called if callable)
"""

import argparse
import importlib
import json
import math
import os
import sys

import numpy as np

try:  # optional: any JAX pytree
    import jax
    import jax.tree_util as jtu
except Exception:  # pragma: no cover - numpy-only installs
    jax = None
    jtu = None

__all__ = ["skeleton", "skeleton_object", "save", "skeleton_path"]

_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
}


def _dtype_name(dtype):
    name = np.dtype(dtype).name
    if name not in _DTYPES:
        raise TypeError(f"leafio has no dtype {name!r}")
    return name


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _key(key):
    if not isinstance(key, str):
        raise TypeError(f"dict keys must be strings for leafio, found {key!r}")
    return "$" + key if key.startswith("$") else key


def _float(value):
    """A float as JSON can hold it: non-finite values are strings."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _scalar(dtype, value):
    name = _dtype_name(dtype)
    if name == "bool":
        value = bool(value)
    elif name.startswith(("int", "uint")):
        value = int(value)
        if value > 2**63 - 1:  # JSON readers hold 64-bit signed integers
            value = str(value)
    elif name.startswith("complex"):
        value = [_float(value.real), _float(value.imag)]
    else:
        value = _float(value)
    return {"scalar": name, "value": value}


def _is_array(x):
    if isinstance(x, np.ndarray):
        return True
    if jax is not None and isinstance(x, (jax.Array, jax.ShapeDtypeStruct)):
        return True
    return False


def _jax_children(x):
    """(kind, type name, [(key, child)]) of a JAX pytree node, or None for a leaf."""
    if jtu is None:
        return None
    flat, _ = jtu.tree_flatten_with_path(x, is_leaf=lambda y: y is not x)
    if len(flat) == 1 and flat[0][0] == () and flat[0][1] is x:
        return None  # JAX treats it as a leaf
    keys = [path[0] for path, _ in flat]
    children = [child for _, child in flat]
    if keys and all(isinstance(k, jtu.GetAttrKey) for k in keys):
        return "struct", type(x).__name__, [(k.name, c) for k, c in zip(keys, children)]
    if keys and all(isinstance(k, jtu.DictKey) for k in keys):
        return "dict", None, [(k.key, c) for k, c in zip(keys, children)]
    return "tuple", None, list(enumerate(children))


def skeleton_object(tree):
    """The skeleton as Python objects (dicts, lists), ready for json.dumps."""
    if tree is None:
        return None
    if isinstance(tree, bool):
        return _scalar(np.bool_, tree)
    if isinstance(tree, np.generic):
        return _scalar(tree.dtype, tree)
    if isinstance(tree, int):
        if not -(2**63) <= tree < 2**63:
            raise OverflowError(f"{tree} does not fit an int64 scalar")
        return _scalar(np.int64, tree)
    if isinstance(tree, float):
        return _scalar(np.float64, tree)
    if isinstance(tree, complex):
        return _scalar(np.complex128, tree)
    if _is_array(tree):
        return {"dtype": _dtype_name(tree.dtype), "shape": [int(d) for d in tree.shape]}
    if _is_namedtuple(tree):
        out = {"$struct": type(tree).__name__}
        for field in tree._fields:
            out[_key(field)] = skeleton_object(getattr(tree, field))
        return out
    if isinstance(tree, tuple):
        return {"$tuple": [skeleton_object(x) for x in tree]}
    if isinstance(tree, list):
        return [skeleton_object(x) for x in tree]
    if isinstance(tree, dict):
        return {_key(k): skeleton_object(tree[k]) for k in _sorted_keys(tree)}
    node = _jax_children(tree)
    if node is not None:
        kind, name, children = node
        if kind == "struct":
            out = {"$struct": name}
            out.update({_key(k): skeleton_object(c) for k, c in children})
            return out
        if kind == "dict":
            return {_key(k): skeleton_object(c) for k, c in sorted(children, key=lambda kc: kc[0])}
        return {"$tuple": [skeleton_object(c) for _, c in children]}
    return {"opaque": type(tree).__name__}


def _sorted_keys(mapping):
    for k in mapping:
        _key(k)  # refuse non-string keys with a clear message
    return sorted(mapping)


def skeleton(tree, indent=None):
    """The skeleton JSON text of `tree` (compact, or indented by `indent`)."""
    return json.dumps(skeleton_object(tree), indent=indent, allow_nan=False)


def _leaves(tree):
    """The leaves in JAX's order (None contributes none)."""
    if tree is None:
        return
    if _is_namedtuple(tree):
        for field in tree._fields:
            yield from _leaves(getattr(tree, field))
    elif isinstance(tree, (tuple, list)):
        for x in tree:
            yield from _leaves(x)
    elif isinstance(tree, dict):
        for k in _sorted_keys(tree):
            yield from _leaves(tree[k])
    elif isinstance(tree, (bool, int, float, complex, np.generic)) or _is_array(tree):
        yield tree
    else:
        node = _jax_children(tree)
        if node is None:
            yield tree
        else:
            kind, _, children = node
            if kind == "dict":
                children = sorted(children, key=lambda kc: kc[0])
            for _, child in children:
                yield from _leaves(child)


def _write_leaf(f, leaf):
    """One record, as Equinox's default_serialise_filter_spec writes it."""
    if jax is not None and isinstance(leaf, jax.Array):
        jax.numpy.save(f, leaf)
    elif isinstance(leaf, (np.ndarray, np.generic, bool, int, float, complex)):
        np.save(f, leaf)
    # anything else (functions, strings, ...) is not saved


def _with_eqx_suffix(path):
    path = os.fspath(path)
    name = os.path.basename(path)
    dot = name.rfind(".")
    return path if 0 < dot < len(name) - 1 else path + ".eqx"


def skeleton_path(eqx_path):
    """model.eqx -> model.skeleton.json (not model.eqx.json: that is leafio's manifest)."""
    root, _ = os.path.splitext(_with_eqx_suffix(eqx_path))
    return root + ".skeleton.json"


def save(path, tree, skeleton_file=None, indent=1):
    """Writes `tree`'s leaves to `path` (".eqx" added without a suffix), one
    np.save a leaf, and its skeleton beside it.  Returns (eqx, skeleton) paths."""
    eqx = _with_eqx_suffix(path)
    text = skeleton(tree, indent=indent)  # fails before anything is written
    with open(eqx, "wb") as f:
        for leaf in _leaves(tree):
            _write_leaf(f, leaf)
    skeleton_file = skeleton_file or skeleton_path(eqx)
    with open(skeleton_file, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return eqx, skeleton_file


def _load_source(source):
    if source.endswith(".npz"):
        with np.load(source, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    module, _, attr = source.partition(":")
    obj = importlib.import_module(module)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj() if callable(obj) else obj


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Print the leafio skeleton of a tree, or save it as .eqx + skeleton.")
    parser.add_argument("source", help="an .npz file, or module:attribute (called if callable)")
    parser.add_argument("--save", metavar="EQX", help="write EQX and EQX's .skeleton.json")
    parser.add_argument("--indent", type=int, default=2, help="JSON indent (default 2)")
    args = parser.parse_args(argv)
    tree = _load_source(args.source)
    if args.save:
        eqx, skel = save(args.save, tree, indent=args.indent)
        print(f"wrote {eqx} and {skel}")
    else:
        print(skeleton(tree, indent=args.indent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
