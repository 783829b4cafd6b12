"""leafio for Python: Equinox's ``.eqx`` files, with leafio's codecs.

    leafio.save(path, tree, spec=None, manifest=False)
                                            write a tree's leaves (and PATH.json)
    leafio.load(path, like, spec=None, verify=True)
                                            read them back into ``like``'s structure
                                            (checking PATH.json when it is there)
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

import numpy as np

from . import atomic, checksum, codecs, npyfmt
from . import manifest as _manifest
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


class _HashingWriter:
    """Passes writes to ``f`` and hashes them, so a save with a manifest
    gets each record's XXH3-64 without reading the file back.  Codecs write
    forward only (write and tell), which is all this offers."""

    __slots__ = ("_f", "_hash", "name")

    def __init__(self, f, name):
        self._f, self.name = f, name
        self._hash = checksum.Xxh3Stream()

    def write(self, data):
        self._hash.update(data)
        return self._f.write(data)

    def tell(self):
        return self._f.tell()

    def take_digest(self):
        """The hash of what was written since the last call."""
        digest = self._hash.intdigest()
        self._hash.reset()
        return digest


# What a codec reads is hashed in pieces of at most this size, each while
# it is still in the processor's caches; smaller reads are kept (up to
# this size) and hashed at once, as most records are a few small reads
# and each call to the hash costs more than hashing a few bytes.
_HASH_PIECE = 1 << 20
_HASH_KEEP = 64 << 10


class _HashingReader:
    """Passes reads from ``f`` and hashes them, so a checked load compares
    each record with its manifest as the codec reads it, without reading
    the file twice.  Codecs read forward only (read, readinto and tell),
    which is all this offers, with fileno and name."""

    __slots__ = ("_f", "_hash", "_streamed", "_kept", "_kept_size", "_records", "_index",
                 "name")

    def __init__(self, f, records):
        self._f, self.name = f, f.name
        self._hash, self._streamed = checksum.Xxh3Stream(), False
        self._kept, self._kept_size = [], 0
        self._records, self._index = records, 0

    def _stream(self, piece):
        """Hashes ``piece`` after what is kept."""
        if self._kept:
            self._hash.update(b"".join(self._kept))
            self._kept.clear()
            self._kept_size = 0
        self._hash.update(piece)
        self._streamed = True

    def read(self, size=-1):
        data = self._f.read(size)
        if self._kept_size + len(data) <= _HASH_KEEP:
            self._kept.append(data)
            self._kept_size += len(data)
        else:
            self._stream(data)
        return data

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        if self._kept_size + view.nbytes <= _HASH_KEEP:
            got = self._f.readinto(view)
            self._kept.append(bytes(view[:got]))
            self._kept_size += got
            return got
        done = 0
        while done < view.nbytes:
            piece = view[done:done + _HASH_PIECE]
            got = self._f.readinto(piece)
            if not got:
                break
            self._stream(piece[:got])
            done += got
        return done

    def tell(self):
        return self._f.tell()

    def fileno(self):
        return self._f.fileno()

    def take_record(self, offset):
        """Whether the record just read from ``offset`` is the one the
        manifest lists next, byte for byte."""
        if self._streamed:
            self._stream(b"")
            digest = self._hash.intdigest()
            self._hash.reset()
            self._streamed = False
        else:
            digest = checksum.xxh3_64(b"".join(self._kept))
            self._kept.clear()
            self._kept_size = 0
        want = self._records[self._index] if self._index < len(self._records) else None
        self._index += 1
        return want == (offset, self._f.tell() - offset, digest)


class _RecordDiffers(LeafioError):
    """A checked load read a record other than the one the manifest lists
    next (other bytes, offset or size, or one past the manifest's last).
    Fewer records than listed need no check of their own: bytes after the
    last one read are refused anyway, and without any, every byte of the
    file was read and matched the manifest."""


def write_leaves(f, tree, spec=None, name="<stream>", log=None):
    """Writes ``tree``'s records to the binary file object ``f``; returns the
    number of records.  With a ``log`` (a list), appends one manifest entry
    a leaf (see :func:`leafio.manifest.build`)."""
    count = [0]
    if log is not None:
        f = _HashingWriter(f, name)

    def visit(path, leaf, ref):
        if not codecs.handles(ref, leaf):
            if log is not None:
                log.append((path, leaf, str(ref), None))
            return
        offset = f.tell()
        try:
            if isinstance(leaf, Abstract):
                raise LeafioError("cannot save an abstract array (dtype and shape only)")
            codecs.write(f, ref, leaf)
        except (LeafioError, ValueError, TypeError, OverflowError) as e:
            _fail(name, count[0], offset, path, e)
        count[0] += 1
        if log is not None:
            log.append((path, leaf, str(ref), (offset, f.tell() - offset, f.take_digest())))

    walk(tree, _spec(spec), visit)
    return count[0]


def save(path, tree, spec=None, manifest=False):
    """Saves ``tree``'s leaves to ``path`` (".eqx" added without a suffix), or
    to a binary file object.  A path is written to a temporary file renamed
    over it when complete, so a failed save keeps the previous file.  As in
    the C library, a replaced file keeps its mode, and a symbolic link to a
    file replaces that file and stays (see :mod:`leafio.atomic`).

    With ``manifest``, ``PATH.json`` is written beside it (docs/MANIFEST.md:
    the skeleton, each leaf's codec, each record's offset, size and
    XXH3-64), after the data and through a temporary file of its own.  Any
    manifest of an earlier save is removed before the new data is renamed
    into place, with or without ``manifest``: it would describe other data.
    """
    if hasattr(path, "write"):
        if manifest:
            raise LeafioError(f"{getattr(path, 'name', '<stream>')}: a manifest is written "
                              f"beside a file: save to a path")
        write_leaves(path, tree, spec, getattr(path, "name", "<stream>"))
        return
    path = _with_suffix(path)
    target, mode = atomic.destination(path)     # a link's file, as C saves
    if manifest:
        if not checksum.AVAILABLE:
            raise LeafioError(f"{path}: a manifest needs XXH3-64 (python3-xxhash or "
                              f"libxxhash), and neither was found")
        _manifest.check_name_fits(target)
    log = [] if manifest else None
    temporary = atomic.temporary_beside(target)
    try:
        with atomic.create_new(temporary, mode) as f:
            write_leaves(f, tree, spec, path, log)
            size = f.tell()
        text = None
        if manifest:
            text = _manifest.dumps(_manifest.build(target, tree, log, size))
        _commit(temporary, target, text)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def _commit(temporary, path, manifest_text):
    """Renames the data into place between removing the old manifest and
    writing the new one (if any), holding the directory's lock as the C
    library does, so that a concurrent save of the same path by either never
    leaves one save's data beside the other's manifest."""
    lock = atomic.lock_directory(path)
    try:
        _manifest.remove(path)
        os.replace(temporary, path)
        if manifest_text is not None:
            _manifest.put(path, manifest_text)
    finally:
        if lock is not None:
            os.close(lock)


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
    """Reads records from ``f`` into a new tree of ``like``'s structure.
    From a :class:`_HashingReader`, each record is compared with the
    manifest's as it ends (_RecordDiffers when it differs)."""
    count = [0]
    checked = isinstance(f, _HashingReader)

    def visit(path, leaf, ref):
        if not codecs.handles(ref, leaf):
            return leaf
        offset = f.tell()
        try:
            value = fit_leaf(leaf, codecs.read(f, ref, leaf))
        except (LeafioError, ValueError, TypeError, OverflowError) as e:
            _fail(name, count[0], offset, path, e)
        if checked and not f.take_record(offset):
            raise _RecordDiffers(f"{name}: record {count[0]} at offset {offset} "
                                 f"({path or 'root'}): its bytes are not those the manifest "
                                 f"lists")
        count[0] += 1
        return value

    return rebuild(like, _spec(spec), visit)


def load(path, like, spec=None, verify=True):
    """Loads the file at ``path`` (or a binary file object) into a new tree
    of ``like``'s structure.  ``like`` may be a tree, or a skeleton (its JSON text
    from :func:`skeleton`).  A path with bytes after the last record
    is refused: ``like`` does not describe the file.

    With ``verify`` (the default), a manifest beside the file
    (``PATH.json``) is checked, as the C library's loads check it
    (docs/MANIFEST.md): like's leaves (paths, kinds, arrays' dtype and
    shape) and the file's size before anything is read, then each record's
    checksum as the record is read, so the file is read once; a difference
    raises LeafioError starting with the manifest's name."""
    if isinstance(like, str):
        like = from_skeleton(like)
    if hasattr(path, "read"):
        return read_leaves(path, like, spec, getattr(path, "name", "<stream>"))
    path = _with_suffix(path)
    spec = _spec(spec)
    if verify and checksum.AVAILABLE:
        return _load_once(path, like, spec)
    with _open_checked(path, _like_leaves(like, spec) if verify else None) as f:
        return _read_file(f, like, spec, path)


def _read_file(f, like, spec, path):
    """The tree in the open file ``f``, which must end after its last record."""
    tree = read_leaves(f, like, spec, path)
    end = f.tell()
    left = os.fstat(f.fileno()).st_size - end
    if left:
        raise LeafioError(f"{path}: {left} bytes left after the last leaf at offset {end}: "
                          f"like does not describe the whole file")
    return tree


def _like_leaves(like, spec):
    """(path, leaf) pairs of like, in order, as a manifest lists them."""
    leaves = []
    walk(like, spec, lambda p, leaf, ref: leaves.append((p, leaf)))
    return leaves


def _load_once(path, like, spec):
    """A checked load that reads the file once.  On any failure, nothing
    read is kept and the whole file is checked against its manifest, so the
    error is the one a check before the load would give, whatever a codec
    made of damaged bytes.  When the file passes that check (it was saved
    again meanwhile), it is loaded again; a failure of the load's own (not
    of a record against the manifest) stands when the file that passed is
    the one the load read."""
    leaves = _like_leaves(like, spec)
    load_error = None
    with _open_file(path) as f:
        opened = os.fstat(f.fileno())
        try:
            records = _manifest.records(path, f, leaves)
        except LeafioError:
            records = False             # the whole check below says what differs
        if records is None:
            return _read_file(f, like, spec, path)
        if records is not False:
            try:
                return _read_file(_HashingReader(f, records), like, spec, path)
            except _RecordDiffers:
                pass
            except Exception as e:      # noqa: BLE001 - what damage makes of a codec
                load_error = e
    with _open_checked(path, leaves) as f:
        if load_error is not None and _same_file(os.fstat(f.fileno()), opened):
            raise load_error
        return _read_file(f, like, spec, path)


# A load that meets a save of the same path starts its check again this
# many times, as the C library's does.
_VERIFY_ATTEMPTS = 3


def _open_checked(path, leaves):
    """``path`` opened for reading, its manifest (if any) checked in full
    first against ``leaves`` (see :func:`_like_leaves`; None skips the
    check).  A check that fails because the file was replaced while it ran
    (a save in between: the manifest is another save's) is started again."""
    for _ in range(_VERIFY_ATTEMPTS):
        f = _open_file(path)
        try:
            if leaves is not None:
                _manifest.verify(path, f, leaves)
            return f
        except LeafioError:
            f_stat = os.fstat(f.fileno())
            f.close()
            if not _replaced(path, f_stat):
                raise
        except BaseException:
            f.close()
            raise
    raise LeafioError(f"{_manifest.path_of(_manifest.data_path(path))}: stale: {path} was saved "
                      f"again while it was being checked ({_VERIFY_ATTEMPTS} times); the file "
                      f"is not damaged, load it again")


def _replaced(path, opened):
    """Whether ``path`` is no longer the file whose fstat is ``opened``."""
    try:
        return not _same_file(os.stat(path), opened)
    except OSError:
        return True


def _same_file(a, b):
    """Whether two stats are of one file (saves rename a new file into place)."""
    return (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


def _open_file(path):
    try:
        return builtins.open(path, "rb")
    except OSError as e:
        raise LeafioError(f"cannot open {path}: {e.strerror}") from None


def open(path, like=None, spec=None, verify=True):   # noqa: A001 - the module's reader
    """Opens ``path`` for random access; see :class:`File`."""
    return File(_with_suffix(path), like, spec, verify)
