"""The manifest beside a saved file: ``FILE.eqx.json`` (docs/MANIFEST.md).

It holds the saved tree's skeleton, each leaf's kind, dtype, shape and
codec, and each record's offset, size and XXH3-64, so that a load with the
wrong ``like`` or of a damaged file fails by leaf path instead of giving
garbage.  :func:`leafio.save` writes one with ``manifest=True`` (the same
JSON, byte for byte, as the C library's ``LF_SAVE_MANIFEST``);
:func:`leafio.load` checks one when it is there, and :class:`leafio.File`
indexes a file with it.
"""

import errno
import json
import os
import re
import stat

from . import atomic, npyfmt
from .checksum import Xxh3Stream
from .errors import LeafioError
from .skeleton import skeleton_object
from .tree import leaf_kind

__all__ = ["FORMAT", "VERSION", "path_of", "data_path", "leaf_description", "build", "dumps",
           "check_name_fits", "put", "remove", "read", "records", "verify"]

FORMAT = "leafio-manifest"
VERSION = 1


def path_of(eqx_path):
    """``model.eqx`` -> ``model.eqx.json``."""
    return eqx_path + ".json"


def data_path(eqx_path):
    """The file whose manifest ``eqx_path`` has: itself, or for a symbolic
    link the file it names (the C library's saves replace that file and put
    the manifest beside it)."""
    return os.path.realpath(eqx_path) if os.path.islink(eqx_path) else eqx_path


# ---- writing -----------------------------------------------------------------

def leaf_description(leaf):
    """``kind`` and, for arrays and scalars, ``dtype`` (and ``shape``) of a
    leaf, as the manifest lists them."""
    kind = leaf_kind(leaf)
    if kind == "array":
        return {"kind": kind, "dtype": npyfmt.dtype_name(leaf.dtype),
                "shape": [int(d) for d in leaf.shape]}
    if kind == "scalar":
        return {"kind": kind, "dtype": npyfmt.dtype_name(npyfmt.leaf_array(leaf).dtype)}
    return {"kind": kind}


def build(eqx_path, tree, entries, size):
    """The manifest of ``tree`` saved to ``eqx_path`` (``size`` bytes), as
    Python objects in the members' order.  ``entries`` holds one tuple per
    leaf in leaf order: (path, leaf, codec text, record), where record is
    None or (offset, size, xxh3)."""
    leaves = []
    for path, leaf, codec, record in entries:
        entry = {"path": path}
        entry.update(leaf_description(leaf))
        entry["codec"] = codec
        entry["record"] = None if record is None else {
            "offset": record[0], "size": record[1], "xxh3": f"{record[2]:016x}"}
        leaves.append(entry)
    return {
        "format": FORMAT,
        "version": VERSION,
        "file": os.path.basename(eqx_path),
        "size": size,
        "checksum": "xxh3-64",
        "n_leaves": len(leaves),
        "n_records": sum(e["record"] is not None for e in leaves),
        "skeleton": skeleton_object(tree),
        "leaves": leaves,
    }


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                  "\r": "\\r", "\t": "\\t"}


def _escape_one(match):
    c = match.group(0)
    return _NAMED_ESCAPES.get(c) or f"\\u{ord(c):04x}"


def _escape(text):
    """A JSON string as json-glib writes one: quotes, backslashes, control
    characters and DEL escaped, everything else (UTF-8 too) as it is.  One
    difference: json-glib 1.6 leaves U+001F raw, which is not JSON; it is
    escaped here (and :func:`parse` accepts it raw)."""
    if _NEEDS_ESCAPE.search(text) is None:
        return '"' + text + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_one, text) + '"'


def _scalar_text(value):
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # g_ascii_dtostr, then ".0" unless there is a dot (skeleton_object
    # gives text, not a float, for values whose digits would lack one).
    text = "%.17g" % value
    return text if "." in text else text + ".0"


def _dump(value, level, out):
    """json-glib's pretty layout: one member or element a line, indented
    one space a level, " : " after names, "[]" and "{  }" when empty."""
    kind = type(value)
    if kind is str:
        out.append(_escape(value))
    elif kind is dict or kind is list:
        if not value:
            out.append("{  }" if kind is dict else "[]")
            return
        pad = " " * level
        between = ",\n" + pad + " "
        out.append(("{" if kind is dict else "[") + "\n" + pad + " ")
        items = value.items() if kind is dict else enumerate(value)
        for i, (key, item) in enumerate(items):
            if i:
                out.append(between)
            if kind is dict:
                out.append(_escape(key) + " : ")
            _dump(item, level + 1, out)
        out.append("\n" + pad + ("}" if kind is dict else "]"))
    else:
        out.append(_scalar_text(value))


def dumps(manifest):
    """The manifest's text as the C library writes it (json-glib's pretty
    printer with an indent of one space)."""
    out = []
    _dump(manifest, 0, out)
    return "".join(out)


def check_name_fits(eqx_path):
    """Refuses a data file name too long to have a manifest beside it."""
    directory, base = os.path.split(os.path.abspath(eqx_path))
    limit = atomic.name_max(directory)
    length = len(os.fsencode(base)) + len(".json")
    if length > limit:
        raise LeafioError(f"{eqx_path}: the manifest's name would be {length} bytes, too long "
                          f"for this filesystem ({limit} at most); save it under a shorter "
                          f"name or without a manifest")


def put(eqx_path, text):
    """Puts ``text`` in place as the manifest of ``eqx_path``: written to a
    temporary file renamed over the target, so no reader sees half."""
    target = path_of(eqx_path)
    temporary = atomic.temporary_beside(target)
    try:
        with atomic.create_new(temporary) as f:
            f.write(text.encode())
        os.replace(temporary, target)
    except OSError as e:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise LeafioError(f"{target}: cannot write: {e.strerror}") from None


def remove(eqx_path):
    """Deletes the manifest beside ``eqx_path``; nothing to do when there
    is none (or the name is too long to have one)."""
    target = path_of(eqx_path)
    try:
        os.unlink(target)
    except OSError as e:
        if e.errno not in (errno.ENOENT, errno.ENAMETOOLONG):
            raise LeafioError(f"cannot remove the stale manifest {target}: "
                              f"{e.strerror}") from None


# ---- reading -----------------------------------------------------------------

def _describe(value):
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _member(name, obj, key, kind, where):
    """``obj[key]`` when it is of ``kind`` (str, int for a non-negative
    integer, list, dict), else a LeafioError naming its JSON path."""
    value = obj.get(key)
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        expected = "a non-negative integer"
    else:
        ok = isinstance(value, kind)
        expected = {str: "a string", list: "an array", dict: "an object"}[kind]
    if not ok:
        raise LeafioError(f"{name}: {where}.{key}: expected {expected}, found "
                          f"{_describe(value) if key in obj else 'nothing'}")
    return value


def _check_record(name, record, where):
    for key in ("offset", "size"):
        _member(name, record, key, int, where)
    digest = _member(name, record, "xxh3", str, where)
    if not re.fullmatch(r"[0-9a-fA-F]{16}", digest):
        raise LeafioError(f'{name}: {where}.xxh3: expected 16 hexadecimal digits, '
                          f'found "{digest}"')


def _check_entry(name, entry, where):
    if not isinstance(entry, dict):
        raise LeafioError(f"{name}: {where}: expected an object, found {_describe(entry)}")
    _member(name, entry, "path", str, where)
    if _member(name, entry, "kind", str, where) == "array":
        _member(name, entry, "dtype", str, where)
        for i, d in enumerate(_member(name, entry, "shape", list, where)):
            if not isinstance(d, int) or isinstance(d, bool) or d < 0:
                raise LeafioError(f"{name}: {where}.shape[{i}]: expected a non-negative "
                                  f"integer, found {_describe(d)}")
    if entry.get("record") is not None:
        _check_record(name, _member(name, entry, "record", dict, where), where + ".record")


def parse(name, text):
    """The manifest in ``text`` (read from the file ``name``), checked to be
    well formed and of version 1; LeafioError naming the JSON path otherwise."""
    try:
        data = json.loads(text, strict=False)    # C's raw U+001F
    except ValueError as e:
        raise LeafioError(f"{name}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise LeafioError(f"{name}: $: expected an object, found {_describe(data)}")
    if _member(name, data, "format", str, "$") != FORMAT:
        raise LeafioError(f'{name}: $.format: expected "{FORMAT}", found "{data["format"]}"')
    version = _member(name, data, "version", int, "$")
    if version != VERSION:
        raise LeafioError(f"{name}: manifest version {version} is not supported (this leafio "
                          f"reads version {VERSION})")
    _member(name, data, "size", int, "$")
    for i, entry in enumerate(_member(name, data, "leaves", list, "$")):
        _check_entry(name, entry, f"$.leaves[{i}]")
    return data


def read(eqx_path):
    """(manifest file name, parsed manifest) for the file at ``eqx_path``,
    or None when there is no manifest beside it."""
    name = path_of(data_path(eqx_path))
    try:
        text = _read_side_file(name)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            return None
        raise LeafioError(f"{name}: cannot read the manifest: {e.strerror}") from None
    return name, parse(name, text)


# The most a manifest may hold, as the C library's LF_SIDE_FILE_MAX.
_SIDE_FILE_MAX = 256 * 1024 * 1024


def _read_side_file(name):
    """The bytes of the regular file ``name``, as the C library reads side
    files: a FIFO is not waited on, a device is not read on and on, and
    nothing over _SIDE_FILE_MAX is read."""
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LeafioError(f"{name}: is {atomic.file_type_name(st.st_mode)}; only a regular "
                              f"file is read here")
        if st.st_size > _SIDE_FILE_MAX:
            raise LeafioError(f"{name}: larger than {_SIDE_FILE_MAX} bytes, the most leafio "
                              f"reads of such a file")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, max(st.st_size + 1 - total, 1 << 16))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > _SIDE_FILE_MAX:
                raise LeafioError(f"{name}: larger than {_SIDE_FILE_MAX} bytes, the most "
                                  f"leafio reads of such a file")
    finally:
        os.close(fd)


# ---- checking a load ---------------------------------------------------------

def _check_leaf(name, path, leaf, entry):
    kind = leaf_kind(leaf)
    if entry["kind"] != kind:
        raise LeafioError(f"{name}: {path}: like has a leaf of kind {kind}, the file was "
                          f"saved with kind {entry['kind']}")
    if kind != "array":
        return      # scalars load into like's type; others carry nothing to compare
    described = leaf_description(leaf)
    if entry["dtype"] != described["dtype"]:
        raise LeafioError(f"{name}: {path}: like has dtype {described['dtype']}, the file "
                          f"was saved with {entry['dtype']}")
    if entry["shape"] != described["shape"]:
        raise LeafioError(f"{name}: {path}: like has shape {tuple(described['shape'])}, the "
                          f"file was saved with {tuple(entry['shape'])}")


def _check_structure(name, entries, like_leaves):
    for i, ((path, leaf), entry) in enumerate(zip(like_leaves, entries)):
        if entry["path"] != path:
            raise LeafioError(f"{name}: leaf {i}: like has {path or 'the root'}, the file was "
                              f"saved with {entry['path'] or 'the root'} there")
        _check_leaf(name, path, leaf, entry)
    if len(entries) != len(like_leaves):
        n = min(len(entries), len(like_leaves))
        first = (f"leaf the file lacks is {like_leaves[n][0]}" if len(like_leaves) > n
                 else f"leaf like lacks is {entries[n]['path']}")
        raise LeafioError(f"{name}: like has {len(like_leaves)} leaves, the file was saved "
                          f"with {len(entries)}; the first {first}")


def _check_size(name, manifest, path, f):
    size = os.fstat(f.fileno()).st_size
    if size != manifest["size"]:
        raise LeafioError(f"{name}: {path} is {size} bytes, the manifest says "
                          f"{manifest['size']} (the file changed after the manifest was "
                          f"written)")


def _checked(eqx_path, f, like_leaves):
    """(name, manifest) of the manifest beside ``eqx_path``, checked
    against ``like_leaves`` and the size of ``f``; None without one."""
    found = read(eqx_path)
    if found is None:
        return None
    name, manifest = found
    if like_leaves is not None:
        _check_structure(name, manifest["leaves"], like_leaves)
    _check_size(name, manifest, eqx_path, f)
    return name, manifest


_CHUNK = 1 << 20


def _hash_range(fd, offset, length, path):
    """XXH3-64 of ``length`` bytes of ``fd`` from ``offset``, read a piece at
    a time: a mapping would end the interpreter with SIGBUS if the file
    were cut short while it is checked."""
    state, buffer = Xxh3Stream(), bytearray(min(length, _CHUNK))
    view, done = memoryview(buffer), 0
    while done < length:
        want = min(length - done, _CHUNK)
        try:
            got = os.preadv(fd, [view[:want]], offset + done)
        except OSError as e:
            raise LeafioError(f"{path}: cannot read at offset {offset + done}: "
                              f"{e.strerror}") from None
        if got <= 0:
            raise LeafioError(f"{path}: cannot read at offset {offset + done}: the file is "
                              f"shorter than it was")
        state.update(view[:got])
        done += got
    return state.intdigest()


def _check_checksums(name, entries, path, fd, size):
    index = 0
    for entry in entries:
        record = entry.get("record")
        if record is None:
            continue
        offset, length = record["offset"], record["size"]
        if offset > size or length > size - offset:
            raise LeafioError(f"{name}: {entry['path']}: record {index} at offset {offset}, "
                              f"{length} bytes, lies beyond the end of {path} ({size} bytes)")
        found, expected = _hash_range(fd, offset, length, path), int(record["xxh3"], 16)
        if found != expected:
            raise LeafioError(f"{name}: {entry['path']}: record {index} at offset {offset} "
                              f"({length} bytes) has checksum {found:016x}, the manifest "
                              f"says {expected:016x}")
        index += 1


def records(eqx_path, f, like_leaves):
    """What a load that reads the file once checks before it reads: the
    manifest beside ``eqx_path`` as :func:`verify` checks it, but for the
    records' checksums.  Returns None when there is no manifest, else its
    records in order as (offset, size, xxh3) tuples, for the load to
    compare each record with as it reads it.  Raises :func:`verify`'s
    errors."""
    checked = _checked(eqx_path, f, like_leaves)
    if checked is None:
        return None
    return [(r["offset"], r["size"], int(r["xxh3"], 16))
            for r in (entry.get("record") for entry in checked[1]["leaves"]) if r is not None]


def verify(eqx_path, f, like_leaves):
    """Checks the manifest beside ``eqx_path``, if any, as a load does
    (docs/MANIFEST.md): well formed and of version 1; against
    ``like_leaves`` ((path, leaf) pairs of like, in order; None skips it):
    paths, kinds, and arrays' dtype and shape, then the leaf count; then
    the open data file ``f``: its size and each record's checksum (skipped
    when no XXH3 is available).  Raises LeafioError with the manifest's
    name first; returns whether there was a manifest."""
    checked = _checked(eqx_path, f, like_leaves)
    if checked is None:
        return False
    name, manifest = checked
    if Xxh3Stream is not None and manifest["size"]:
        _check_checksums(name, manifest["leaves"], eqx_path, f.fileno(), manifest["size"])
    return True
