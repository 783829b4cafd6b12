"""The Python reader in docs/FORMAT.md decodes files leafio wrote with
`compressed`: the inner records it returns are, byte for byte, the npy
records of the same tree, and numpy loads them."""
import io
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

srcdir = os.environ.get("LF_TEST_SRCDIR", ".")
builddir = os.environ.get("LF_TEST_BUILDDIR", ".")
with open(os.path.join(srcdir, "..", "docs", "FORMAT.md"), encoding="utf-8") as f:
    doc = f.read()
section = doc[doc.index("## Reading compressed records in Python"):]
code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
reader = {}
exec(compile(code, "docs/FORMAT.md", "exec"), reader)

failures = checks = 0


def check(name, ok, detail=""):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
    print("ok:" if ok else "FAIL:", name, detail)


with tempfile.TemporaryDirectory() as tmp:
    for ref, inner in (("compressed", "npy"), ("compressed(level=19, threads=1)", "npy"),
                       ("compressed(inner=npy(align=128))", "npy(align=128)")):
        src = os.path.join(tmp, "src.eqx")
        out = os.path.join(tmp, "out.eqx")
        subprocess.run([os.path.join(builddir, "codec-save"), ref, src, out], check=True)
        raws = []
        with open(out, "rb") as f:
            while f.peek(1):
                codec, raw = reader["read_compressed_record"](f)
                check("%s names its inner codec" % ref, codec == inner, codec)
                raws.append(raw)
        with open(src, "rb") as f:
            npy = f.read()
        if inner == "npy":
            check("%s: inner records are the npy file" % ref, b"".join(raws) == npy)
        leaves = reader["load_compressed_leaves"](out)
        with open(src, "rb") as f:
            for i, leaf in enumerate(leaves):
                want = np.load(f)
                check("%s leaf %d loads in numpy" % (ref, i),
                      leaf.dtype == want.dtype and leaf.shape == want.shape
                      and leaf.tobytes() == want.tobytes())
        # A truncated record is refused by the length checks.
        data = open(out, "rb").read()
        first_len = 40 + int.from_bytes(data[8:12], "little") + int.from_bytes(data[24:32], "little")
        try:
            reader["read_compressed_record"](io.BytesIO(data[:first_len - 3]))
            caught = False
        except ValueError:
            caught = True
        check("%s: a truncated record is refused" % ref, caught)

print("%d passed, %d failed" % (checks - failures, failures))
sys.exit(1 if failures else 0)
