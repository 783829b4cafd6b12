"""Manifests between the Python package and the C library (run by
interop-python-manifest.sh): Python writes the manifest C writes, byte for
byte, and C's tools use it; Python's loads check C's manifests with C's
messages, reading a file once; saves without a manifest remove a stale one."""

import builtins
import contextlib
import fcntl
import json
import os
import sys
import threading

from interop_python_common import (CLI, CONVERT, check_tree, expect_error, leafio, leaves,
                                   make_tree, np, run, tmpdir)

SPECS = ["npy", "float16", "compressed", "skip-arrays", "compressed(level=19, inner=float16)",
         "npy(align=64)", "cast"]


def c_save(d, tree, spec, name="c.eqx"):
    """C's save of ``tree`` with ``spec`` and a manifest (through a Python
    npy file and its skeleton); returns the path."""
    base, skel, out = (os.path.join(d, n) for n in ("base.eqx", "base.skeleton.json", name))
    leafio.save(base, tree)
    with open(skel, "w") as f:
        f.write(leafio.skeleton(tree))
    if os.path.exists(out + ".json"):
        os.unlink(out + ".json")
    run([CONVERT, skel, base, "npy", out, spec if isinstance(spec, str) else json.dumps(spec)])
    return out


def read_manifest(path):
    with open(path + ".json", encoding="utf-8") as f:
        return f.read()


def same_manifest(d, tree, spec, what):
    """Python's manifest equals C's, parsed and byte for byte (but for the
    data file's name), and so do the data files."""
    c = c_save(d, tree, spec)
    py = os.path.join(d, "py.eqx")
    leafio.save(py, tree, spec, manifest=True)
    with open(c, "rb") as a, open(py, "rb") as b:
        if a.read() != b.read():
            sys.exit(f"FAIL: {what}: Python's data differ from C's")
    ours = read_manifest(py).replace('"file" : "py.eqx"', '"file" : "c.eqx"', 1)
    theirs = read_manifest(c)
    if json.loads(ours, strict=False) != json.loads(theirs, strict=False):
        sys.exit(f"FAIL: {what}: parsed manifests differ:\n{ours}\n---\n{theirs}")
    if ours != theirs:
        sys.exit(f"FAIL: {what}: manifests are equal as JSON but not byte for byte")
    return py


def record_paths(path):
    """The leaf paths, in order, as the manifest lists them."""
    manifest = json.loads(read_manifest(path), strict=False)
    return [e["path"] for e in manifest["leaves"]]


def mixed_spec(tree):
    """A spec tree with a codec of each kind."""
    spec = {k: "npy" for k in tree}
    spec.update(a="float16", big="compressed", t="compressed(inner=float16)",
                layers=["npy", "skip-arrays"])
    return spec


def check_c_uses_python_manifests(d, tree):
    for spec in SPECS + [mixed_spec(tree)]:
        py = same_manifest(d, tree, spec, f"spec {spec}")
        _, out, _ = run([CLI, "verify", py])
        if "OK" not in out:
            sys.exit(f"FAIL: leafio verify of Python's {spec} file: {out}")
        # inspect lists each record's leaf path, which only the manifest knows.
        _, out, _ = run([CLI, "inspect", py])
        rows = out.split("\n\n")[0].splitlines()[1:]
        paths = [row.split()[-1] for row in rows]
        if "leaf paths and codecs from " + py + ".json" not in out:
            sys.exit(f"FAIL: leafio inspect does not say it used the manifest: {out}")
        if paths != record_paths(py):
            sys.exit(f"FAIL: leafio inspect of Python's {spec} file lists {paths}")
        # show finds a leaf by path with no --like: through the manifest.
        _, out, _ = run([CLI, "show", py, "['count']"])
        if out.strip() != "7":
            sys.exit(f"FAIL: leafio show ['count'] of Python's {spec} file: {out!r}")
        print(f"ok Python's manifest is C's, and C uses it: {spec}")
    # Python's own random access indexes the file from it too.
    py = os.path.join(d, "py.eqx")
    leafio.save(py, tree, "npy", manifest=True)
    with leafio.open(py) as f:
        assert f.from_manifest
        loaded = f.load()
        assert loaded["name"] == leafio.Opaque("str"), loaded["name"]
        check_tree(loaded, dict(tree, name=loaded["name"]), "leafio.open of a file saved "
                   "with a manifest")
    bad = bytearray(open(py, "rb").read())
    bad[-1] ^= 0xFF
    open(py, "wb").write(bad)
    _, out, err = run([CLI, "verify", py], ok=False)
    out += err
    if "checksum" not in out or "['t'][2]" not in out:
        sys.exit(f"FAIL: leafio verify of a damaged Python file: {out}")
    print("ok C's verify finds a damaged record by Python's manifest")


def check_odd_trees(d):
    """Roots that are leaves, keys that need escaping, floats json-glib
    spells oddly, empty containers."""
    keys = {"k" + chr(c): c for c in range(1, 128) if c != 0x1F}
    keys.update({"é": 1, "日本": 2, "$d": 3, "$$e": 4, "": 5})
    floats = [0.1, 1e22, 1e-7, -0.0, 5e-324, 1e300, 123456789.0, 2.0 ** 70, float("nan"),
              -float("inf")]
    trees = [np.arange(3.0), 5, {"keys": keys, "f": floats, "u": np.uint64(2 ** 64 - 1),
                                 "z": np.array(7), "empty": {}, "el": [], "et": (),
                                 "c": 1j + 0.1, "none": None, "op": "opaque"}]
    for i, tree in enumerate(trees):
        for spec in ("npy", "skip-arrays", "compressed"):
            same_manifest(d, tree, spec, f"odd tree {i} with {spec}")
    # json-glib writes U+001F raw (not JSON); Python escapes it, and reads C's.
    tree = {"k\x1f": np.arange(2.0)}
    c = c_save(d, tree, "npy")
    check_tree(leafio.load(c, tree), tree, "C's manifest with a raw U+001F")
    py = os.path.join(d, "py.eqx")
    leafio.save(py, tree, manifest=True)
    ours = json.loads(read_manifest(py))
    ours["file"] = "c.eqx"
    if ours != json.loads(read_manifest(c), strict=False):
        sys.exit("FAIL: manifests with U+001F in a key differ")
    run([CLI, "verify", py])
    print("ok manifests of odd trees are C's")


def c_message(d, c, like, spec="npy"):
    """C's error for loading ``c`` into ``like``."""
    skel = os.path.join(d, "like.skeleton.json")
    with open(skel, "w") as f:
        f.write(leafio.skeleton(like))
    _, _, err = run([CONVERT, skel, c, spec, os.path.join(d, "out.eqx"), "npy"], ok=False)
    return err.strip()


def same_error(d, c, like, needles, what):
    """Python's load fails as C's does, with the same message."""
    ours = expect_error(what, needles, leafio.load, c, like)
    theirs = c_message(d, c, like)
    if ours != theirs:
        sys.exit(f"FAIL: {what}: Python says\n  {ours}\nC says\n  {theirs}")
    return ours


def check_python_checks_c_manifests(d, tree):
    c = c_save(d, tree, "npy")
    name = c + ".json"
    check_tree(leafio.load(c, tree), tree, "load of C's file with its manifest")
    wrong_shape = dict(tree, layers=[tree["layers"][0]._replace(
        weight=np.zeros((30, 40), np.float32)), tree["layers"][1]])
    same_error(d, c, wrong_shape, [f"{name}: ['layers'][0].weight: like has shape (30, 40), "
                                   "the file was saved with (40, 30)"], "wrong shape")
    same_error(d, c, dict(tree, i=np.zeros(4, np.int64)),
               [f"{name}: ['i']: like has dtype int64, the file was saved with int32"],
               "wrong dtype")
    same_error(d, c, dict(tree, i=3), [f"{name}: ['i']: like has a leaf of kind scalar, the "
                                       "file was saved with kind array"], "wrong kind")
    paths = [p for p, _ in leaves(tree)]
    n, i = len(paths), paths.index("['i']")
    same_error(d, c, {k: v for k, v in tree.items() if k != "t"},
               [f"{name}: like has {n - 3} leaves, the file was saved with {n}; the first "
                "leaf like lacks is ['t'][0]"], "fewer leaves")
    same_error(d, c, dict(tree, zz=np.zeros(3)),
               [f"{name}: like has {n + 1} leaves, the file was saved with {n}; the first "
                "leaf the file lacks is ['zz']"], "more leaves")
    renamed = {("j" if k == "i" else k): v for k, v in tree.items()}
    same_error(d, c, renamed, [f"{name}: leaf {i}: like has ['j'], the file was saved with "
                               "['i'] there"], "another path")
    # Scalars load into like's type, as without a manifest.
    loaded = leafio.load(c, dict(tree, lr=np.float32(0)))
    assert loaded["lr"] == np.float32(0.001) and isinstance(loaded["lr"], np.float32)
    # verify=False skips the manifest: the record's own check speaks.
    expect_error("verify=False", [f"record {i} at offset", "expected int64 array"], leafio.load,
                 c, dict(tree, i=np.zeros(4, np.int64)), verify=False)
    print("ok Python checks like against C's manifest, with C's messages")

    record = [e for e in json.loads(read_manifest(c))["leaves"] if e["path"] == "['i']"][0]
    offset, size = record["record"]["offset"], record["record"]["size"]
    data = bytearray(open(c, "rb").read())
    data[offset + size - 1] ^= 0xFF                     # one byte of ['i']'s data
    open(c, "wb").write(data)
    if leafio.checksum.AVAILABLE:
        same_error(d, c, tree, [f"{name}: ['i']: record {i} at offset {offset} ({size} bytes) "
                                "has checksum", f"the manifest says {record['record']['xxh3']}"],
                   "a damaged record")
    damaged = leafio.load(c, tree, verify=False)
    assert not np.array_equal(damaged["i"], tree["i"]), "verify=False: the damage is loaded"
    open(c, "ab").write(b"x")
    same_error(d, c, tree, [f"{name}: {c} is {len(data) + 1} bytes, the manifest says "
                            f"{len(data)}"], "a stale manifest")
    print("ok Python checks C's records and size")

    # A link's manifest is beside the file it names (where C's saves put it).
    c = c_save(d, tree, "npy")
    link = os.path.join(d, "latest.eqx")
    os.symlink(os.path.basename(c), link)
    check_tree(leafio.load(link, tree), tree, "load through a link")
    expect_error("a wrong like through a link", [f"{name}: ['i']: like has dtype int64"],
                 leafio.load, link, dict(tree, i=np.zeros(4, np.int64)))
    print("ok a link's manifest is its file's")


def check_malformed(d, tree):
    c = c_save(d, tree, "npy")
    name = c + ".json"
    good = read_manifest(c)
    cases = [
        (lambda m: m["leaves"][3]["record"].update(offset="x"),
         f"{name}: $.leaves[3].record.offset: expected a non-negative integer, found a string"),
        (lambda m: m.update(version=2),
         f"{name}: manifest version 2 is not supported (this leafio reads version 1)"),
        (lambda m: m.update(format="other"),
         f'{name}: $.format: expected "leafio-manifest", found "other"'),
        (lambda m: m["leaves"][0]["record"].update(xxh3="12"),
         f'{name}: $.leaves[0].record.xxh3: expected 16 hexadecimal digits, found "12"'),
        (lambda m: m.pop("leaves"), f"{name}: $.leaves: expected an array, found nothing"),
    ]
    for change, message in cases:
        manifest = json.loads(good)
        change(manifest)
        with open(name, "w") as f:
            json.dump(manifest, f)
        same_error(d, c, tree, [message], f"malformed: {message}")
        check_tree(leafio.load(c, tree, verify=False), tree, "verify=False")
    with open(name, "w") as f:
        f.write("{")
    expect_error("not JSON", [f"{name}: not valid JSON"], leafio.load, c, tree)
    print("ok malformed manifests are named by JSON path")


def check_not_regular(d, tree):
    """A FIFO, a device or a directory in the manifest's place is refused
    without being waited on or read on and on, by both, in the same words."""
    c = c_save(d, tree, "npy")
    name = c + ".json"
    for kind, make in (("a FIFO", os.mkfifo), ("a device", lambda p: os.symlink("/dev/zero", p)),
                       ("a directory", os.mkdir)):
        os.unlink(name)
        make(name)
        same_error(d, c, tree, [f"{name}: is {kind}; only a regular file is read here"],
                   f"manifest that is {kind}")
        check_tree(leafio.load(c, tree, verify=False), tree, "verify=False")
        if os.path.isdir(name) and not os.path.islink(name):
            os.rmdir(name)
        else:
            os.unlink(name)
        with open(name, "w") as f:
            f.write("{}")
    os.unlink(name)
    print("ok a manifest that is not a regular file is refused, not read")


def check_replacing(d, tree):
    p = os.path.join(d, "r.eqx")
    leafio.save(p, tree, manifest=True)
    assert os.path.exists(p + ".json")
    leafio.save(p, {"x": np.arange(3.0)})                 # no manifest: the old one goes
    assert not os.path.exists(p + ".json"), "a stale manifest survived a save"
    check_tree(leafio.load(p, {"x": np.zeros(3)}), {"x": np.arange(3.0)}, "after replacing")
    c = c_save(d, tree, "npy", "r.eqx")                   # C's manifest, replaced by Python
    assert os.path.exists(c + ".json")
    leafio.save(c, {"x": np.arange(3.0)})
    assert not os.path.exists(c + ".json"), "C's stale manifest survived a Python save"
    # A save that fails keeps the previous file and its manifest.
    leafio.save(p, tree, manifest=True)
    before = read_manifest(p)
    expect_error("a failing save", ["unknown codec 'nope'"], leafio.save, p, tree, "nope")
    expect_error("a failing record", ["['x']", "abstract"], leafio.save, p,
                 {"x": leafio.Abstract("float32", (2,))}, manifest=True)
    assert read_manifest(p) == before, "a failed save touched the manifest"
    check_tree(leafio.load(p, tree), tree, "after failed saves")
    # A name too long for a manifest beside it is refused before anything is written.
    long = os.path.join(d, "n" * (os.pathconf(d, "PC_NAME_MAX") - 6) + ".eqx")
    expect_error("a name too long", ["too long for this filesystem"], leafio.save, long, tree,
                 manifest=True)
    assert not os.path.exists(long)
    leafio.save(long, tree)                               # without a manifest it fits
    assert [n for n in os.listdir(d) if n.endswith(".tmp")] == [], "a temporary file is left"
    expect_error("a stream", ["a manifest is written beside a file"], leafio.save,
                 open(os.path.join(d, "s.eqx"), "wb"), tree, manifest=True)
    print("ok saves remove stale manifests")


def check_links(d, tree):
    """A save through a link replaces the file it names and keeps the link
    (and a replaced file its mode), as C saves do; the manifest goes beside
    the file, where C's loads and tools look."""
    step, latest = os.path.join(d, "step_1.eqx"), os.path.join(d, "newest.eqx")
    leafio.save(step, {"x": np.arange(3.0)})
    os.chmod(step, 0o640)
    os.symlink("step_1.eqx", latest)
    leafio.save(latest, tree, "compressed", manifest=True)
    assert os.path.islink(latest), "the save replaced the link"
    assert os.stat(step).st_mode & 0o777 == 0o640, oct(os.stat(step).st_mode)
    assert os.path.exists(step + ".json") and not os.path.exists(latest + ".json")
    assert json.loads(read_manifest(step))["file"] == "step_1.eqx"
    run([CLI, "verify", step])
    check_tree(leafio.load(latest, tree, "compressed"), tree, "load through the link")
    leafio.save(latest, tree)                             # no manifest: the file's goes
    assert not os.path.exists(step + ".json")
    os.symlink("nowhere.eqx", os.path.join(d, "dangling.eqx"))
    expect_error("a dangling link", ["dangling.eqx: is a symbolic link to nowhere.eqx, which "
                                     "does not exist"], leafio.save,
                 os.path.join(d, "dangling.eqx"), tree)
    os.mkdir(os.path.join(d, "dir.eqx"))
    expect_error("a directory", ["dir.eqx: is a directory; a save replaces only regular files"],
                 leafio.save, os.path.join(d, "dir.eqx"), tree)
    print("ok saves through links replace the file and put the manifest beside it")


@contextlib.contextmanager
def patched(module, name, wrap):
    """``module.name`` replaced by ``wrap(the real one)`` in the block."""
    real = getattr(module, name)
    setattr(module, name, wrap(real))
    try:
        yield
    finally:
        setattr(module, name, real)


def saving_first(saves, calls, spec="compressed"):
    """A wrapper of a check of leafio.manifest that saves the next tree of
    ``saves`` (with a manifest) first, as another process's save would
    between the load's open and its check."""
    def wrap(real):
        def check(path, f, leaves):
            calls.append(path)
            if saves:
                leafio.save(path, saves.pop(0), spec, manifest=True)
            return real(path, f, leaves)
        return check
    return wrap


def check_concurrent_save(d, tree):
    """A save between a load's open and its check makes the check fail on
    the other save's manifest; the load checks the whole file again and
    loads the new one, as C's does."""
    p = os.path.join(d, "busy.eqx")
    old, new = {"x": np.arange(3.0)}, {"x": np.arange(3.0) + 10}
    # Saved again (the same size) before the manifest is read: the records
    # read from the old file are not the new manifest's.
    leafio.save(p, old, manifest=True)
    calls, checks = [], []
    with patched(leafio.manifest, "records", saving_first([new], calls, "npy")), \
            patched(leafio.manifest, "verify", saving_first([], checks)):
        check_tree(leafio.load(p, old), new, "load meeting a save of the same size")
    assert len(calls) == 1 and len(checks) == 1, (calls, checks)
    # Another size: the first check fails, the whole check passes on the new file.
    leafio.save(p, old, manifest=True)
    with patched(leafio.manifest, "records", saving_first([new], [])):
        check_tree(leafio.load(p, old, "compressed"), new, "load meeting a save")
    # Saved again after the check: the load reads the file it checked.
    leafio.save(p, old, manifest=True)

    def saving_after(real):
        def check(path, f, leaves):
            found = real(path, f, leaves)
            leafio.save(p, new, manifest=True)
            return found
        return check
    with patched(leafio.manifest, "records", saving_after):
        check_tree(leafio.load(p, old), old, "load of the file it checked")
    check_tree(leafio.load(p, old), new, "the next load")
    # A load failing on its own (the wrong codec), with a save during the
    # whole check: the new file loads.
    leafio.save(p, old, manifest=True)
    calls = []
    with patched(leafio.manifest, "verify", saving_first([new], calls)):
        check_tree(leafio.load(p, old, "compressed"), new, "a failed load meeting a save")
    assert len(calls) == 2, f"the check ran {len(calls)} times, expected 2"
    # Saves all the time: the whole check gives up after 3 attempts.
    leafio.save(p, old, manifest=True)
    calls, saves = [], [{"x": np.arange(3.0) + i} for i in range(20, 24)]
    with patched(leafio.manifest, "records", saving_first(saves, calls)), \
            patched(leafio.manifest, "verify", saving_first(saves, calls)):
        expect_error("load meeting saves", [f"{p}.json: stale: {p} was saved again while it "
                                            "was being checked (3 times)"],
                     leafio.load, p, old, "compressed")
    assert len(calls) == 4, calls
    print("ok a load that meets a save checks again")

    # The commit waits for the directory's lock, the one C saves hold for
    # theirs (flock on the directory).
    before = read_manifest(p)
    lock = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)
    saver = threading.Thread(target=leafio.save, args=(p, old), kwargs={"manifest": True})
    saver.start()
    saver.join(0.5)
    waited = saver.is_alive() and read_manifest(p) == before
    os.close(lock)
    saver.join()
    assert waited, "the save did not wait for the directory's lock"
    check_tree(leafio.load(p, old), old, "after the lock was released")
    print("ok saves commit under the directory's lock")


@contextlib.contextmanager
def reads_counted(path):
    """Counts the bytes read from the file at ``path`` by the package:
    through the file objects it opens (builtins.open) and by the whole
    check's os.preadv.  Yields a list whose one item is the count."""
    real_open, real_preadv = builtins.open, os.preadv
    target = os.path.realpath(path)
    counted = [0]

    class Counting:
        def __init__(self, f):
            self._f = f

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._f.close()

        def read(self, size=-1):
            data = self._f.read(size)
            counted[0] += len(data)
            return data

        def readinto(self, buffer):
            got = self._f.readinto(buffer)
            counted[0] += got
            return got

    def counting_open(file, *args, **kwargs):
        f = real_open(file, *args, **kwargs)
        if isinstance(file, str) and os.path.realpath(file) == target:
            return Counting(f)
        return f

    def counting_preadv(fd, buffers, offset, *args):
        got = real_preadv(fd, buffers, offset, *args)
        if os.path.samefile(f"/proc/self/fd/{fd}", target):
            counted[0] += got
        return got

    builtins.open, os.preadv = counting_open, counting_preadv
    try:
        yield counted
    finally:
        builtins.open, os.preadv = real_open, real_preadv


def check_read_once(d, tree):
    """A checked load of an intact file reads each byte once (checking
    the whole file first would read every record twice) and loads what an
    unchecked load does, with each codec."""
    p = os.path.join(d, "once.eqx")
    for spec in SPECS + ["blosc", "compressed(inner=cast)", mixed_spec(tree)]:
        leafio.save(p, tree, spec, manifest=True)
        size = os.path.getsize(p)
        with reads_counted(p) as counted:
            loaded = leafio.load(p, tree, spec)
        if counted[0] != size:
            sys.exit(f"FAIL: a checked load with {spec} read {counted[0]} bytes of a file of "
                     f"{size}")
        check_tree(loaded, leafio.load(p, tree, spec, verify=False),
                   f"checked and unchecked loads with {spec}")
        print(f"ok a checked load reads the file once: {spec}")


def damage(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x5A]))


def check_damage_found(d, tree):
    """A damaged byte in a record, small or big (> 2 MiB), in its data or
    in the header its codec reads first, gives the whole check's error,
    the one leafio.manifest.verify and the C library give, whatever the
    codec made of the damage."""
    if not leafio.checksum.AVAILABLE:
        sys.exit("FAIL: no XXH3 for the package (libxxhash is leafio's own dependency)")
    p = os.path.join(d, "damaged.eqx")
    name = p + ".json"
    for spec in ("npy", "compressed", "blosc"):
        leafio.save(p, tree, spec, manifest=True)
        good = open(p, "rb").read()
        entries = json.loads(read_manifest(p))["leaves"]
        records = [e for e in entries if e["record"] is not None]
        for leaf in ("['i']", "['big']"):
            index = [e["path"] for e in records].index(leaf)
            record = records[index]["record"]
            offset, size = record["offset"], record["size"]
            assert spec != "npy" or leaf != "['big']" or size > 2 << 20, size
            for at, where in ((offset + 3, "header"), (offset + size * 3 // 4, "data")):
                open(p, "wb").write(good)
                damage(p, at)
                what = f"{spec}: a damaged byte in the {where} of {leaf}"
                needles = [f"{name}: {leaf}: record {index} at offset {offset} ({size} bytes) "
                           f"has checksum", f"the manifest says {record['xxh3']}"]
                ours = expect_error(what, needles, leafio.load, p, tree, spec)
                with open(p, "rb") as f:
                    whole = expect_error(what + " (verify)", needles, leafio.manifest.verify,
                                         p, f, leaves(tree))
                theirs = c_message(d, p, tree, spec)
                if not ours == whole == theirs:
                    sys.exit(f"FAIL: {what}: load says\n  {ours}\nverify says\n  {whole}\n"
                             f"C says\n  {theirs}")
        print(f"ok a damaged byte is named as the whole check names it: {spec}")


def check_size_first(d, tree):
    """A file of another size than its manifest says fails before a byte
    of it is read."""
    p = os.path.join(d, "sized.eqx")
    leafio.save(p, tree, manifest=True)
    good = open(p, "rb").read()
    for data in (good + b"x", good[:-1]):
        open(p, "wb").write(data)
        with reads_counted(p) as counted:
            ours = expect_error("another size", [f"{p}.json: {p} is {len(data)} bytes, the "
                                                 f"manifest says {len(good)}"],
                                leafio.load, p, tree)
        if counted[0]:
            sys.exit(f"FAIL: a load of a file of another size read {counted[0]} bytes of it")
        theirs = c_message(d, p, tree)
        if ours != theirs:
            sys.exit(f"FAIL: another size: Python says\n  {ours}\nC says\n  {theirs}")
    print("ok a file of another size fails before it is read")


def check_own_errors(d, tree):
    """A load's own failure on a file that matches its manifest stands,
    as it is without the manifest; so do bytes after the last record that
    the manifest counts in the file's size."""
    p = os.path.join(d, "own.eqx")
    leafio.save(p, tree, manifest=True)
    like = dict(tree, t=(tree["t"][0], 3, tree["t"][2]))    # a complex scalar into an int
    unchecked = expect_error("unchecked", ["['t'][1]", "complex value"], leafio.load, p, like,
                             verify=False)
    checked = expect_error("checked", ["['t'][1]", "complex value"], leafio.load, p, like)
    assert checked == unchecked, (checked, unchecked)
    manifest = json.loads(read_manifest(p))
    open(p, "ab").write(b"xy")
    manifest["size"] += 2
    leafio.manifest.put(p, leafio.manifest.dumps(manifest))
    expect_error("bytes after the last record", [f"{p}: 2 bytes left after the last leaf at "
                                                 f"offset {manifest['size'] - 2}"],
                 leafio.load, p, tree)
    print("ok a load's own errors stand when the file is as its manifest says")


def check_without_xxh3(d, tree):
    """Without an XXH3 implementation, a load checks the manifest but for
    the checksums, as before."""
    p = os.path.join(d, "nohash.eqx")
    leafio.save(p, tree, manifest=True)
    record = [e for e in json.loads(read_manifest(p))["leaves"] if e["path"] == "['i']"][0]
    damage(p, record["record"]["offset"] + record["record"]["size"] - 1)
    with patched(leafio.checksum, "AVAILABLE", lambda _: False), \
            patched(leafio.manifest, "Xxh3Stream", lambda _: None):
        damaged = leafio.load(p, tree)
        expect_error("no XXH3, a wrong like", [f"{p}.json: ['i']: like has dtype int64"],
                     leafio.load, p, dict(tree, i=np.zeros(4, np.int64)))
    assert not np.array_equal(damaged["i"], tree["i"])
    expect_error("XXH3 back", [f"{p}.json: ['i']: record"], leafio.load, p, tree)
    print("ok without XXH3 the checksums are not checked")


def main():
    d = tmpdir()
    tree = make_tree()
    check_c_uses_python_manifests(d, tree)
    check_odd_trees(d)
    check_python_checks_c_manifests(d, tree)
    check_malformed(d, tree)
    check_not_regular(d, tree)
    check_replacing(d, tree)
    check_links(d, tree)
    check_concurrent_save(d, tree)
    check_read_once(d, tree)
    check_damage_found(d, tree)
    check_size_first(d, tree)
    check_own_errors(d, tree)
    check_without_xxh3(d, tree)
    print("interop-python-manifest: ok")


if __name__ == "__main__":
    main()
