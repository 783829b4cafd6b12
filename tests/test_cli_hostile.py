"""The `leafio` tool against hostile surroundings.

Run by test-cli-hostile.sh with the Python configure found ($LF_PYTHON).
FIFOs and devices named as inputs or side inputs, JSON that hides its
nesting in comments, file names that look like options, and inputs cut
short by another program while the tool reads them.  Every case must end
promptly with exit status 2 (or succeed, for `--`), a message naming the
file, and no temporary file left.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

TOP = os.path.abspath(os.environ.get("LF_TOP_BUILDDIR", ".."))
LEAFIO = os.path.join(TOP, "tools", "leafio")
if os.path.exists(os.path.join(TOP, "tools", ".libs", "leafio")):
    LEAFIO = os.path.join(TOP, "tools", ".libs", "leafio")
    os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(
        [os.path.join(TOP, "core", ".libs")] +
        [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p])
TMP = tempfile.mkdtemp(prefix="leafio-cli-hostile-")
# A case that hangs fails after this many seconds instead of hanging make check.
TIMEOUT = 20


def path(*names):
    return os.path.join(TMP, *names)


def run(args, rc=0, cwd=None, env=None):
    proc = subprocess.run([os.path.abspath(LEAFIO)] + list(args), capture_output=True,
                          text=True, timeout=TIMEOUT, cwd=cwd, stdin=subprocess.DEVNULL,
                          env=env)
    if proc.returncode != rc:
        raise AssertionError(
            f"leafio {' '.join(args)}: exit {proc.returncode}, expected {rc}\n"
            f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc.stdout, proc.stderr


def save_eqx(filename, arrays):
    with open(filename, "wb") as f:
        for a in arrays:
            np.save(f, a)


def no_temporaries(directory):
    left = [n for n in os.listdir(directory) if n.startswith(".")]
    assert not left, f"temporary files left in {directory}: {left}"


def small_file(name="small.eqx"):
    filename = path(name)
    save_eqx(filename, [np.arange(6, dtype=np.float32).reshape(2, 3), np.int64(7)])
    return filename


def skeleton_of(filename):
    like = path(os.path.basename(filename) + ".skeleton.json")
    with open(like, "w") as f:
        f.write(run(["skeleton", filename])[0])
    return like


# ---------------------------------------------------------------------------


def test_fifo_as_input():
    """mkfifo f.eqx; leafio inspect f.eqx: refused at once, not a hang."""
    fifo = path("f.eqx")
    os.mkfifo(fifo)
    for args in (["inspect", fifo], ["skeleton", fifo], ["unpack", fifo, path("out")],
                 ["convert", "--spec", "npy", fifo, path("out.eqx")], ["diff", fifo, fifo]):
        _, err = run(args, rc=2)
        assert "f.eqx" in err and "regular file" in err, err


def test_side_inputs_not_regular():
    """--like, --spec @FILE and --rules naming a device, a FIFO or a
    directory: refused at once, naming the file."""
    filename = small_file()
    fifo = path("side.fifo")
    os.mkfifo(fifo)
    for side, what in (("/dev/zero", "is a device"), (fifo, "is a FIFO"),
                       (TMP, "is a directory")):
        for args in (["inspect", "--like", side, filename],
                     ["unpack", "--like", side, filename, path("unpacked")],
                     ["convert", "--spec", "npy", "--like", side, filename, path("c.eqx")],
                     ["convert", "--spec", "@" + side, filename, path("c.eqx")],
                     ["convert", "--rules", side, filename, path("c.eqx")]):
            _, err = run(args, rc=2)
            assert side in err and what in err, (args, err)
    no_temporaries(TMP)


def test_manifest_fifo():
    """A FIFO named FILE.eqx.json: a load of FILE (convert --like) fails at
    once naming it instead of hanging."""
    filename = small_file("with-manifest.eqx")
    like = skeleton_of(filename)
    os.mkfifo(filename + ".json")
    _, err = run(["convert", "--spec", "npy", "--like", like, filename, path("out.eqx")],
                 rc=2)
    assert "with-manifest.eqx.json" in err and "is a FIFO" in err, err
    no_temporaries(TMP)


def test_json_comments_hiding_nesting():
    """A skeleton or spec whose comment hides 100000 levels of nesting: a
    parse error, never a stack overflow."""
    filename = small_file()
    deep = path("deep.json")
    with open(deep, "w") as f:
        f.write('[/*"*/' + "[" * 100000)
    _, err = run(["inspect", "--like", deep, filename], rc=2)
    assert "deep.json" in err and "comment" in err, err
    _, err = run(["convert", "--spec", "@" + deep, filename, path("c.eqx")], rc=2)
    assert "comment" in err, err
    _, err = run(["convert", "--spec", "npy", "--like", deep, filename, path("c.eqx")], rc=2)
    assert "comment" in err, err
    # And as the manifest of the file a load reads.
    manifest_file = small_file("deep-manifest.eqx")
    like = skeleton_of(manifest_file)
    shutil.copy(deep, manifest_file + ".json")
    _, err = run(["convert", "--spec", "npy", "--like", like, manifest_file, path("c.eqx")],
                 rc=2)
    assert "deep-manifest.eqx.json" in err and "comment" in err, err


def test_double_dash_ends_options():
    """`--` ends the options of every command: names that start with '-'."""
    sub = path("dash")
    os.mkdir(sub)
    save_eqx(os.path.join(sub, "-d.eqx"), [np.arange(4, dtype=np.int16)])
    np.save(os.path.join(sub, "-a.npy"), np.arange(3, dtype=np.float64))
    out, _ = run(["inspect", "--", "-d.eqx"], cwd=sub)
    assert "int16" in out, out
    run(["skeleton", "--", "-d.eqx"], cwd=sub)
    run(["convert", "--spec", "npy", "--", "-d.eqx", "-e.eqx"], cwd=sub)
    run(["diff", "--", "-d.eqx", "-e.eqx"], cwd=sub)
    run(["unpack", "--", "-d.eqx", "-unpacked"], cwd=sub)
    assert os.listdir(os.path.join(sub, "-unpacked")), "unpack wrote nothing"
    run(["pack", "--", "-p.eqx", "-a.npy"], cwd=sub)
    out, _ = run(["inspect", "--", "-p.eqx"], cwd=sub)
    assert "float64" in out, out
    # Options still work before `--`, and `--` alone is no argument.
    run(["inspect", "--quiet", "--", "-d.eqx"], cwd=sub)
    _, err = run(["inspect", "--"], cwd=sub, rc=2)
    assert "missing" in err, err


def big_file(name, megabytes):
    """A file of float32 records, `megabytes` in all."""
    filename = path(name)
    rng = np.random.default_rng(5)
    save_eqx(filename, [rng.standard_normal(1 << 20).astype(np.float32)
                        for _ in range(megabytes // 4)])
    return filename


def output_started(out_dir):
    """Whether the output's temporary file has data, or unpack has written
    a few files: the input is being read."""
    names = os.listdir(out_dir)
    if sum(1 for n in names if n.endswith(".npy")) >= 3:
        return True
    for n in names:
        try:
            if n.startswith(".") and os.path.getsize(os.path.join(out_dir, n)) > (4 << 20):
                return True
        except FileNotFoundError:
            pass
    return False


def truncated_midway(args, filename, out_dir):
    """Runs leafio with `args`, cuts `filename` to 1000000 bytes while it
    runs, and returns (exit status, stderr)."""
    proc = subprocess.Popen([os.path.abspath(LEAFIO)] + args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        if output_started(out_dir):
            break
        time.sleep(0.002)
    os.truncate(filename, 1000000)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err


def test_input_truncated_while_read():
    """convert maps its input; another program truncating it mid-run gives
    exit 2 naming the file and leaves no temporary file (SIGBUS killed it
    with status 135 and a 100 MB temporary before)."""
    out_dir = path("truncate-out")
    os.mkdir(out_dir)
    for attempt in range(3):
        filename = big_file("shrinking.eqx", 160)
        rc, err = truncated_midway(["convert", "--quiet", "--spec", "compressed(level=3)",
                                    filename, os.path.join(out_dir, "out.eqx")],
                                   filename, out_dir)
        if rc == 0:
            continue  # finished before the cut: try again
        assert rc == 2, (rc, err)
        assert "shrinking.eqx" in err and "truncated" in err, err
        no_temporaries(out_dir)
        assert not os.path.exists(os.path.join(out_dir, "out.eqx"))
        return
    raise AssertionError("convert always finished before the input was cut")


def test_unpack_input_truncated_while_read():
    """unpack copies npy records straight out of its mapped input: a cut
    input is named in the error (it named an output file, "Bad address",
    when write(2) met the missing pages)."""
    for attempt in range(3):
        out_dir = path("unpack-truncate-out-%d" % attempt)
        os.mkdir(out_dir)
        filename = big_file("shrinking-unpack.eqx", 160)
        rc, err = truncated_midway(["unpack", "--quiet", filename, out_dir], filename, out_dir)
        if rc == 0:
            continue  # finished before the cut: try again
        assert rc == 2, (rc, err)
        assert "shrinking-unpack.eqx" in err and "truncated" in err, err
        assert "Bad address" not in err, err
        return
    raise AssertionError("unpack always finished before the input was cut")


def plugin_copy(name):
    """A private directory holding a copy of the built npy plugin."""
    directory = path(name)
    os.mkdir(directory, 0o700)
    built = os.environ["LEAFIO_PLUGIN_PATH"].split(os.pathsep)[0]
    shutil.copy(os.path.join(built, "npy.so"), os.path.join(directory, "npy.so"))
    return directory


def test_plugin_rules():
    """Relative LEAFIO_PLUGIN_PATH entries are ignored with a warning; a
    plugin in a world-writable directory is refused; a codec name two
    plugins claim stops every command except `codecs`, which shows it."""
    filename = small_file("plugins.eqx")
    built = os.environ["LEAFIO_PLUGIN_PATH"]
    env = dict(os.environ)
    env["LEAFIO_PLUGIN_PATH"] = "plugins" + os.pathsep + built
    _, err = run(["inspect", filename], env=env)
    assert "warning: LEAFIO_PLUGIN_PATH entry 'plugins' is relative: ignored" in err, err

    open_dir = plugin_copy("world-writable")
    os.chmod(open_dir, 0o1777)
    env["LEAFIO_PLUGIN_PATH"] = open_dir
    out, err = run(["codecs"], env=env)
    assert "writable by every user" in out + err, (out, err)
    _, err = run(["convert", "--spec", "npy", filename, path("p.eqx")], env=env, rc=2)
    assert "unknown codec 'npy'" in err, err
    os.chmod(open_dir, 0o700)

    impostor = plugin_copy("impostor")
    env["LEAFIO_PLUGIN_PATH"] = built + os.pathsep + impostor
    for args in (["inspect", filename], ["convert", "--spec", "npy", filename, path("p.eqx")],
                 ["skeleton", filename]):
        _, err = run(args, env=env, rc=2)
        assert "codec 'npy' is already registered" in err and impostor in err, (args, err)
    out, err = run(["codecs"], env=env)
    assert "npy" in out, out


def test_stdout_full():
    """leafio inspect F > /dev/full: output that never reached stdout is an
    error (exit 2, a message), not a silent success; --help's too, and
    convert to stdout names stdout once."""
    if not os.path.exists("/dev/full"):
        return
    filename = small_file("to-full.eqx")
    for args in (["inspect", filename], ["skeleton", filename], ["codecs"], ["--help"],
                 ["inspect", "--help"], ["diff", "--json", filename, filename],
                 ["show", filename, "[0]"], ["convert", "-q", "--spec", "npy", filename, "-"]):
        with open("/dev/full", "w") as full:
            proc = subprocess.run([LEAFIO] + args, stdout=full, stderr=subprocess.PIPE,
                                  text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert "leafio: stdout: cannot write" in proc.stderr, (args, proc.stderr)
        assert "stdout: stdout" not in proc.stderr, (args, proc.stderr)
    # A reader that goes away early (`| head` with SIGPIPE ignored) is no
    # error: the command's status stands.
    big = path("many-records.eqx")
    save_eqx(big, [np.arange(3, dtype=np.int8)] * 20000)
    proc = subprocess.Popen([LEAFIO, "inspect", big], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=TIMEOUT) == 0 and err == "", (proc.returncode, err)
    # A command that prints nothing does not need stdout at all (`>&-`).
    proc = subprocess.run([LEAFIO, "convert", "-q", "--spec", "npy", filename,
                           path("to-full-copy.eqx")], stderr=subprocess.PIPE, text=True,
                          timeout=TIMEOUT, stdin=subprocess.DEVNULL,
                          preexec_fn=lambda: os.close(1))
    assert proc.returncode == 0, proc.stderr


def test_unpack_names_from_hostile_keys():
    """unpack --like names files after keys: '..' and '/etc/x' stay inside
    DIR, and a key too long for a file name stops the command before it
    writes anything, with --force too."""
    filename = path("keys.eqx")
    save_eqx(filename, [np.arange(3.0) * i for i in range(4)])
    leaf = {"dtype": "float64", "shape": [3]}
    like = path("keys.json")
    with open(like, "w") as f:
        json.dump({"..": leaf, "../../x": leaf, "/etc/x": leaf, "b": leaf}, f)
    out = path("keys-out")
    run(["unpack", "-q", "--like", like, filename, out])
    assert sorted(os.listdir(out)) == ["%2E%2E%2F%2E%2E%2Fx.npy", "%2E%2E.npy",
                                       "%2Fetc%2Fx.npy", "b.npy"], os.listdir(out)
    with open(like, "w") as f:
        json.dump({"a": leaf, "b": leaf, "c": leaf, "d" * 300: leaf}, f)
    for force in ([], ["-f"]):
        long_out = path("long-out")
        _, err = run(["unpack", "-q"] + force + ["--like", like, filename, long_out], rc=2)
        assert "is 304 bytes long" in err and "'ddd" in err, err
        assert not os.path.exists(long_out), os.listdir(long_out)


def test_pack_short_npy_named_once():
    """pack of an .npy file cut short: the message names the file once."""
    short = path("short.npy")
    np.save(short, np.arange(3.0))
    with open(short, "r+b") as f:
        f.truncate(os.path.getsize(short) - 8)
    _, err = run(["pack", "-q", path("short-out.eqx"), short], rc=2)
    assert err.count("short.npy") == 1 and "16 remain" in err, err
    assert not os.path.exists(path("short-out.eqx"))


def test_ls_metric_names_escaped():
    """leafio ls prints metric names from the directory's commit records
    with control characters escaped: a name holding a newline or a
    terminal escape cannot break the table or drive the terminal."""
    ck = path("ck-names")
    os.mkdir(ck)
    record = {"format": "leafio-checkpoint", "version": 1, "step": 8, "state": "committed",
              "time": "2026-01-01T00:00:00Z", "size": 2,
              "metrics": {"loss\n": 1.5, "\x1b[2J": 2}}
    with open(os.path.join(ck, "step-00000008.meta.json"), "w") as f:
        json.dump(record, f)
    with open(os.path.join(ck, "step-00000008.eqx"), "w") as f:
        f.write("x\n")
    out, _ = run(["ls", ck])
    assert "\x1b" not in out and "loss\\x0a=1.5" in out and "\\x1b[2J=2" in out, repr(out)
    assert len(out.splitlines()) == 3, repr(out)
    # JSON keeps the names as they are.
    out, _ = run(["ls", "--json", ck])
    assert json.loads(out)["steps"][0]["metrics"] == {"loss\n": 1.5, "\x1b[2J": 2}, out


def test_output_naming_a_directory():
    """convert/pack to "" or "." (a path with an empty name, which Equinox
    refuses) fail instead of writing a hidden .eqx in the directory."""
    filename = small_file("for-empty-name.eqx")
    sub = path("empty-name")
    os.mkdir(sub)
    for out in ("", ".", "./", "/"):
        _, err = run(["convert", "-q", "-f", "--spec", "npy", filename, out], rc=2, cwd=sub)
        assert "the path names a directory" in err, (out, err)
        _, err = run(["pack", "-q", "-f", out, filename], rc=2, cwd=sub)
        assert "the path names a directory" in err, (out, err)
    assert os.listdir(sub) == [], os.listdir(sub)
    run(["convert", "-q", "--spec", "npy", filename, "named/."], cwd=sub)
    assert os.listdir(sub) == ["named.eqx"], os.listdir(sub)


def main():
    tests = [(name, fn) for name, fn in globals().items()
             if name.startswith("test_") and callable(fn)]
    only = sys.argv[1:]
    tests = [(name, fn) for name, fn in tests if not only or name in only]
    failed = 0
    try:
        for name, fn in tests:
            try:
                fn()
                print(f"PASS: {name}")
            except Exception as e:  # report every failure, then fail
                failed += 1
                print(f"FAIL: {name}: {type(e).__name__}: {e}")
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
