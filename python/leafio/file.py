"""Random access: open a file once, read any leaf.

The index comes from the manifest beside the file (``FILE.eqx.json``, see
docs/MANIFEST.md) when it is valid, otherwise from ``like`` (a tree or a
skeleton) and ``spec`` by describing each record and seeking past it.  A
manifest that no longer matches its file (another size) is passed over
with a warning when ``like`` is given, and refused otherwise.

Leaves stored with ``npy`` whose data is aligned for its dtype come back as
read-only ``numpy.memmap`` views; every other leaf is read and decoded.
"""

import builtins
import io
import os
import warnings

import numpy as np

from . import codecs
from . import manifest as manifest_module
from .checksum import xxh3_64
from .errors import LeafioError
from .refs import parse
from .skeleton import from_skeleton
from .tree import leaf_kind, walk

__all__ = ["File", "Entry"]


class Entry:
    """One leaf of an open file: path, like leaf, codec reference (text), and
    its record's offset, size and XXH3 (None when unknown); ``offset`` is
    None for a leaf without a record."""

    __slots__ = ("path", "like", "codec", "offset", "size", "xxh3")

    def __init__(self, path, like, codec, offset=None, size=None, xxh3=None):
        self.path, self.like, self.codec = path, like, codec
        self.offset, self.size, self.xxh3 = offset, size, xxh3

    @property
    def kind(self):
        return leaf_kind(self.like)

    def __repr__(self):
        return (f"Entry({self.path!r}, {self.kind}, codec={self.codec!r}, "
                f"offset={self.offset}, size={self.size})")


def _manifest(path):
    """The parsed manifest beside ``path``, None when there is none, or a
    LeafioError saying what is wrong with it."""
    try:
        found = manifest_module.read(path)
    except LeafioError as e:
        return e
    if found is None:
        return None
    name, data = found
    size = os.path.getsize(path)
    if data["size"] != size:
        return LeafioError(f"{name}: the manifest describes a file of {data['size']} "
                           f"bytes, {path} has {size}: it is stale")
    if "skeleton" not in data:
        return LeafioError(f"{name}: the manifest lacks the skeleton")
    return data


class File:
    """An open ``.eqx`` file; use as a context manager or call close().

    ``file[path]`` reads the leaf at the keystr ``path`` (``"['layers'][0]"``);
    ``file.keys()`` lists the leaves in order; ``file.entries`` holds their
    :class:`Entry`; ``file.load()`` reads every leaf into a tree.
    """

    def __init__(self, path, like=None, spec=None, verify=True):
        from . import _spec
        self.path = os.fspath(path)
        self.verify = verify and xxh3_64 is not None
        self.from_manifest = False
        manifest = _manifest(self.path)
        if isinstance(manifest, LeafioError):
            if like is None:
                raise manifest
            warnings.warn(f"{manifest}; indexing {self.path} by reading it")
            manifest = None
        if like is None and manifest is None:
            raise LeafioError(f"{self.path}: no manifest ({self.path}.json) beside it: give "
                              f"a like tree or skeleton to index it")
        if isinstance(like, str):
            like = from_skeleton(like)
        if like is None:
            like = from_skeleton(manifest["skeleton"])
        self.like = like
        self._f = builtins.open(self.path, "rb")
        try:
            if manifest is not None:
                self.entries = self._index_manifest(manifest, like, _spec(spec))
                self.from_manifest = True
            else:
                self.entries = self._index_scan(like, _spec(spec))
        except BaseException:
            self._f.close()
            raise
        self._by_path = {e.path: e for e in self.entries}

    def _leaves(self, like, spec):
        leaves = []
        walk(like, spec, lambda p, leaf, ref: leaves.append((p, leaf, ref)))
        return leaves

    def _index_manifest(self, manifest, like, spec):
        name = manifest_module.path_of(manifest_module.data_path(self.path))
        recorded = manifest["leaves"]
        leaves = self._leaves(like, spec)
        if len(leaves) != len(recorded):
            raise LeafioError(f"{name}: the manifest has {len(recorded)} leaves, like has "
                              f"{len(leaves)}")
        entries = []
        for (path, leaf, _), item in zip(leaves, recorded):
            if not isinstance(item, dict) or item.get("path") != path:
                raise LeafioError(f"{name}: leaf {path!r} of like is "
                                  f"{item.get('path') if isinstance(item, dict) else item!r} "
                                  f"in the manifest")
            record = item.get("record")
            if record is None:
                entries.append(Entry(path, leaf, item.get("codec")))
                continue
            digest = record.get("xxh3")
            entries.append(Entry(path, leaf, item["codec"], int(record["offset"]),
                                 int(record["size"]), int(digest, 16) if digest else None))
        return entries

    def _index_scan(self, like, spec):
        entries, end = [], os.fstat(self._f.fileno()).st_size
        for path, leaf, ref in self._leaves(like, spec):
            if not codecs.handles(ref, leaf):
                entries.append(Entry(path, leaf, str(ref)))
                continue
            offset = self._f.tell()
            try:
                info = codecs.describe(self._f, ref, leaf)
                if info is None:           # the codec cannot describe: read it
                    self._f.seek(offset)
                    codecs.read(self._f, ref, leaf)
                    size = self._f.tell() - offset
                else:
                    size = info["size"]
            except LeafioError as e:
                raise LeafioError(f"{self.path}: record at offset {offset} ({path or 'root'}): "
                                  f"{e}") from e
            if offset + size > end:
                raise LeafioError(f"{self.path}: record at offset {offset} ({path or 'root'}) "
                                  f"needs {size} bytes, the file has {end - offset} from there")
            entries.append(Entry(path, leaf, str(ref), offset, size))
            self._f.seek(offset + size)
        return entries

    def keys(self):
        return [e.path for e in self.entries]

    def __contains__(self, path):
        return path in self._by_path

    def __getitem__(self, path):
        return self.read(path)

    def _entry(self, path):
        entry = self._by_path.get(path)
        if entry is None:
            raise LeafioError(f"{self.path}: no leaf at {path!r} (leaves: "
                              f"{', '.join(self.keys()[:8])}{', ...' if len(self.entries) > 8 else ''})")
        return entry

    def _map(self, entry):
        """A memmap of an npy record's data, or None."""
        if parse(entry.codec).name != "npy" or entry.kind != "array":
            return None
        self._f.seek(entry.offset)
        info = codecs.describe(self._f, entry.codec, entry.like)
        dtype, shape = info["dtype"], info["shape"]
        data_at = entry.offset + info["data_at"]
        if (int(np.prod(shape, dtype=np.int64)) == 0 or data_at % dtype.alignment
                or info["size"] != entry.size or dtype.byteorder == ">"):
            return None
        from . import npyfmt
        npyfmt.check_like(entry.like, dtype, shape)
        return np.memmap(self.path, dtype=dtype, mode="r", offset=data_at, shape=shape,
                         order="F" if info["fortran"] else "C")

    def _check(self, entry, data):
        if self.verify and entry.xxh3 is not None and xxh3_64(data) != entry.xxh3:
            raise LeafioError(f"{self.path}.json: {entry.path or 'root'}: record at offset "
                              f"{entry.offset} ({entry.size} bytes) has checksum "
                              f"{xxh3_64(data):016x}, the manifest says {entry.xxh3:016x}")

    def read(self, path, mmap=True):
        """The leaf at ``path``: a memmap where possible (``mmap``), else a
        decoded array or scalar; a leaf without a record is like's."""
        from . import fit_leaf
        entry = self._entry(path)
        if entry.offset is None:
            return entry.like
        try:
            mapped = self._map(entry) if mmap else None
            if mapped is not None:
                if self.verify and entry.xxh3 is not None:
                    self._check(entry, np.memmap(self.path, dtype=np.uint8, mode="r",
                                                 offset=entry.offset, shape=(entry.size,)))
                return mapped
            self._f.seek(entry.offset)
            data = self._f.read(entry.size)
            if len(data) != entry.size:
                raise LeafioError(f"expected {entry.size} bytes, the file ends after "
                                  f"{len(data)}")
            self._check(entry, data)
            stream = io.BytesIO(data)
            value = fit_leaf(entry.like, codecs.read(stream, entry.codec, entry.like))
            if stream.tell() != entry.size:
                raise LeafioError(f"the codec read {stream.tell()} of the record's "
                                  f"{entry.size} bytes")
            return value
        except LeafioError as e:
            if str(e).startswith(self.path):
                raise
            raise LeafioError(f"{self.path}: record at offset {entry.offset} "
                              f"({entry.path or 'root'}): {e}") from e

    def load(self, mmap=False):
        """Every leaf, in a tree of like's structure."""
        from .tree import rebuild
        return rebuild(self.like, "npy", lambda p, leaf, ref: self.read(p, mmap=mmap))

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
