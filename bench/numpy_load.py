#!/usr/bin/python3
"""numpy peer for the loads of any workload: numpy_peer.py's load (np.load
per leaf, then Equinox's shape and dtype checks, timed in process), with
the leaves' paths, dtypes and shapes read from the workload's manifest
(DATADIR/WORKLOAD.json, make_trees.py's format) instead of rebuilt by
make_trees.py, so that it also runs on the tiny workload of
bench/test-bench.sh.

  numpy_load.py DATADIR WORKLOAD FILE [--reps N]

Prints numpy_peer.py's lines ("load WORKLOAD ... rep I/N")."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.environ.get("LF_SHARED_BENCH", "/work/shared/bench"))
import numpy_peer  # noqa: E402


def manifest_spec(datadir, name):
    with open(os.path.join(datadir, name + ".json")) as f:
        leaves = json.load(f)["leaves"]
    return [(e["path"], np.dtype(e["dtype"]), tuple(e["shape"])) for e in leaves]


def main(argv):
    args = list(argv[1:])
    reps = int(numpy_peer._take(args, "--reps", "1"))
    if len(args) != 3:
        print(__doc__)
        return 2
    datadir, name, path = args
    spec = manifest_spec(datadir, name)          # untimed, as make_trees.spec
    numpy_peer.make_trees.spec = lambda _name: spec
    numpy_peer.load(name, path, reps)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
