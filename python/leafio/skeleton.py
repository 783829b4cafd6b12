"""Skeletons: a tree's structure and each leaf's dtype and shape, as JSON
(the text the C library's ``lf_tree_from_json`` and the CLI's ``--like``
read; forms in include/leafio/spec.h).

    null                                   None
    [a, b]                                 list
    {"k": v}                               dict (a key starting with '$' is written "$$...")
    {"$tuple": [a, b]}                     tuple
    {"$struct": "Name", "field": v, ...}   namedtuple
    {"dtype": "float32", "shape": [2, 3]}  array
    {"scalar": "int64", "value": 3}        scalar
    {"opaque": "function"}                 anything else
"""

import collections
import json
import math


from . import npyfmt
from .errors import LeafioError
from .tree import Abstract, is_namedtuple, leaf_kind

__all__ = ["skeleton", "skeleton_object", "from_skeleton"]


def _key(key):
    if not isinstance(key, str):
        raise LeafioError(f"dict keys must be strings for leafio, found {key!r}")
    return "$" + key if key.startswith("$") else key


def _float(value):
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    # As the C library: a value whose 17 digits have an exponent but no dot
    # (1e+22) is text, since json-glib would write it as 1e+22.0.
    text = "%.17g" % value
    if "e" in text and "." not in text:
        return text
    return value


def _scalar(value):
    array = npyfmt.leaf_array(value)
    name = npyfmt.dtype_name(array.dtype)
    item = array.item()
    if name == "bool":
        item = bool(item)
    elif name.startswith(("int", "uint")):
        item = int(item) if int(item) <= 2**63 - 1 else str(int(item))
    elif name.startswith("complex"):
        item = [_float(item.real), _float(item.imag)]
    else:
        item = _float(item)
    return {"scalar": name, "value": item}


def skeleton_object(tree):
    """The skeleton as Python objects, ready for ``json.dumps``."""
    if tree is None:
        return None
    kind = leaf_kind(tree)
    if kind == "array" and not isinstance(tree, (list, tuple, dict)):
        return {"dtype": npyfmt.dtype_name(tree.dtype), "shape": [int(d) for d in tree.shape]}
    if kind == "scalar":
        return _scalar(tree)
    if is_namedtuple(tree):
        out = {"$struct": type(tree).__name__}
        out.update((_key(f), skeleton_object(getattr(tree, f))) for f in tree._fields)
        return out
    if isinstance(tree, tuple):
        return {"$tuple": [skeleton_object(x) for x in tree]}
    if isinstance(tree, list):
        return [skeleton_object(x) for x in tree]
    if isinstance(tree, dict):
        return {_key(k): skeleton_object(tree[k]) for k in sorted(_key(k) and k for k in tree)}
    if isinstance(tree, Opaque):
        return {"opaque": tree.type_name}
    return {"opaque": type(tree).__name__}


def skeleton(tree, indent=None):
    """The skeleton JSON text of ``tree`` (what ``leafio --like`` takes)."""
    return json.dumps(skeleton_object(tree), indent=indent, allow_nan=False)


class Opaque:
    """An opaque leaf read from a skeleton: only its type name is known."""

    __slots__ = ("type_name",)

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"Opaque({self.type_name!r})"

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.type_name == self.type_name

    def __hash__(self):
        return hash(self.type_name)


def _scalar_value(obj, where):
    name, value = obj["scalar"], obj.get("value", 0)
    dtype = npyfmt.dtype_from_name(name)
    if name.startswith("complex"):
        if not isinstance(value, list) or len(value) != 2:
            raise LeafioError(f"{where}: a complex scalar's value is [real, imag]")
        value = complex(float(value[0]), float(value[1]))
    elif isinstance(value, str) and not name.startswith(("int", "uint")):
        value = float(value)
    elif isinstance(value, str):
        value = int(value)
    defaults = {"bool": bool, "int64": int, "float64": float, "complex128": complex}
    if name in defaults:
        return defaults[name](value)
    return dtype.type(value)


def _from(obj, where):
    if obj is None:
        return None
    if isinstance(obj, list):
        return [_from(x, f"{where}[{i}]") for i, x in enumerate(obj)]
    if not isinstance(obj, dict):
        raise LeafioError(f"{where}: expected null, a list or an object, found {obj!r}")
    if "$tuple" in obj:
        return tuple(_from(x, f"{where}[{i}]") for i, x in enumerate(obj["$tuple"]))
    if "$struct" in obj:
        fields = [k for k in obj if k != "$struct"]
        names = [k[1:] if k.startswith("$$") else k for k in fields]
        cls = collections.namedtuple(obj["$struct"], names, rename=False)
        return cls(*(_from(obj[k], f"{where}.{n}") for k, n in zip(fields, names)))
    if set(obj) == {"dtype", "shape"}:
        return Abstract(npyfmt.dtype_from_name(obj["dtype"]), obj["shape"])
    if "scalar" in obj and set(obj) <= {"scalar", "value"}:
        return _scalar_value(obj, where)
    if set(obj) == {"opaque"}:
        return Opaque(obj["opaque"])
    return {(k[1:] if k.startswith("$$") else k): _from(v, f"{where}[{k!r}]")
            for k, v in obj.items()}


def from_skeleton(text):
    """The ``like`` tree a skeleton describes: arrays become
    :class:`leafio.Abstract`, opaque leaves :class:`Opaque`.  ``text`` is
    JSON text, or the parsed object."""
    obj = json.loads(text) if isinstance(text, (str, bytes)) else text
    return _from(obj, "$")
