"""Half of interop-checkpoint.sh: reads a checkpoint manager's directory
with numpy alone, as an Equinox user would (np.load once a leaf), and checks
each step against its commit record and its manifest.

    interop-checkpoint.py DIR EXPECTED_STEPS   (e.g. "30 40 50")
"""
import datetime
import json
import os
import re
import sys

import numpy as np

sys.dont_write_bytecode = True


def load_records(path):
    """Every record of an .eqx, in order, as np.load reads them."""
    size, records = os.path.getsize(path), []
    with open(path, "rb") as f:
        while f.tell() < size:
            records.append(np.load(f, allow_pickle=False))
    return records


def main():
    directory, expected = sys.argv[1], [int(s) for s in sys.argv[2].split()]
    steps = []
    for name in sorted(os.listdir(directory)):
        m = re.fullmatch(r"step-(\d{8,})\.meta\.json", name)
        if not m:
            continue
        with open(os.path.join(directory, name)) as f:
            record = json.load(f)
        step = int(m.group(1))
        assert record["format"] == "leafio-checkpoint" and record["version"] == 1, record
        assert record["step"] == step and record["state"] == "committed", record
        datetime.datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
        assert record["metrics"]["loss"] > 0, record

        eqx = os.path.join(directory, f"step-{step:08d}.eqx")
        with open(eqx + ".json") as f:
            manifest = json.load(f)
        assert record["size"] == os.path.getsize(eqx) + os.path.getsize(eqx + ".json")
        records = load_records(eqx)
        leaves = [leaf for leaf in manifest["leaves"] if leaf["record"] is not None]
        assert len(records) == len(leaves) == 3, (len(records), len(leaves))
        for array, leaf in zip(records, leaves):
            assert array.dtype.name == leaf["dtype"], (leaf, array.dtype)
            assert list(array.shape) == leaf.get("shape", []), (leaf, array.shape)
        # Leaves in JAX's order: bias, step, weights.
        bias, saved_step, weights = records
        assert int(saved_step) == step, (saved_step, step)
        assert weights.shape == (64,) and np.all(np.isfinite(weights)) and np.isfinite(bias)
        steps.append(step)
    assert steps == expected, (steps, expected)
    print(f"{len(steps)} steps load with np.load: {steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
