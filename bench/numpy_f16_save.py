#!/usr/bin/python3
"""numpy peer for the float16 codec: what a user of Equinox does to save
`large` in half precision: x.astype(np.float16) then np.save, leaf by leaf,
into one new file (unlinked before each rep, untimed).

  numpy_f16_save.py OUT [--reps N]

Prints one line a rep, as numpy_peer.py does ("save-f16 large ...")."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.environ.get("LF_SHARED_BENCH", "/work/shared/bench"))
import make_trees  # noqa: E402


def main(argv):
    out = argv[1]
    reps = int(argv[argv.index("--reps") + 1]) if "--reps" in argv else 1
    leaves = [a for _, a in make_trees.build("large")]
    for rep in range(1, reps + 1):
        if os.path.lexists(out):
            os.unlink(out)
        t0 = time.perf_counter()
        with open(out, "wb") as f:
            for a in leaves:
                np.save(f, a.astype(np.float16))
        dt = time.perf_counter() - t0
        nb = sum(a.nbytes for a in leaves)            # float32 side, as ANCHORS
        print("save-f16 large %.4f s %.1f MB/s %d leaves %d B %.2f us/leaf rep %d/%d"
              % (dt, nb / dt / 1e6, len(leaves), nb, dt / len(leaves) * 1e6, rep, reps),
              flush=True)


if __name__ == "__main__":
    main(sys.argv)
