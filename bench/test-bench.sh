#!/bin/sh
# The benchmark programs on a tiny workload in make_trees.py's manifest
# format (leaves of several dtypes, 0-d, zero rows, fewer rows than ranks):
# leafio-bench's save is numpy's stream byte for byte and its load reads the
# values back; leafio-mpi-bench does the same with 1, 2 and 3 ranks, each
# holding only its rows; bad manifests and short streams are refused with
# messages naming the file and leaf.
set -eu

: "${LF_BENCH_BUILDDIR:=.}"
bench=$LF_BENCH_BUILDDIR/leafio-bench
mpi_bench=$LF_BENCH_BUILDDIR/leafio-mpi-bench
if [ -z "${LF_PYTHON:-}" ]; then
  echo "test-bench: no Python with numpy (configure PYTHON=...): skipped"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-test-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A workload `tiny` (and broken copies of its manifest) in $tmp/data.
mkdir "$tmp/data"
"$LF_PYTHON" - "$tmp/data" <<'PY'
import hashlib, json, os, sys
import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
leaves = [
    (".embed", rng.standard_normal((10, 4)).astype(np.float32)),
    (".layers[0].w", rng.standard_normal((3, 5)).astype(np.float32)),
    (".layers[0].b", np.arange(5, dtype=np.float32)),
    (".layers[1].w", np.arange(3, dtype=np.int64).reshape(1, 3)),   # 1 row
    (".layers[1].b", np.zeros((0, 2), dtype=np.float16)),           # no rows
    (".norm['scale']", np.linspace(0, 1, 7)),
    (".mask", np.array([[True, False], [False, True]])),
    (".step", np.array(1000, dtype=np.int32)),                      # 0-d
]

def write_stream(name, leaves):
    """Writes NAME.eqx as Equinox does; its manifest's leaves and itself."""
    entries = []
    with open(os.path.join(out, name + ".eqx"), "wb") as f:
        for path, a in leaves:
            start = f.tell()
            np.save(f, a)
            entries.append({"path": path, "dtype": a.dtype.str, "dtype_name": a.dtype.name,
                            "shape": list(a.shape), "offset": start,
                            "header_bytes": f.tell() - start - a.nbytes,
                            "data_bytes": a.nbytes})
    with open(os.path.join(out, name + ".eqx"), "rb") as f:
        data = f.read()
    return entries, {"workload": name, "stream_bytes": len(data),
                     "stream_sha256": hashlib.sha256(data).hexdigest(), "leaves": entries}

entries, manifest = write_stream("tiny", leaves)
# Big enough (8 MB) for the machine limits' timers, which print 0.1 ms.
_, little = write_stream("little", [(".w[%d]" % i, rng.standard_normal((512, 1024)).astype(np.float32))
                              for i in range(4)] + [(".step", np.array(3, dtype=np.int64))])
with open(os.path.join(out, "little.json"), "w") as f:
    json.dump(little, f)

def write(name, m):
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(m, f)
    if name != "tiny":
        os.symlink("tiny.eqx", os.path.join(out, name + ".eqx"))

write("tiny", manifest)
write("noleaves", dict(manifest, leaves=[]))
write("nopath", dict(manifest, leaves=[{k: v for k, v in e.items() if k != "path"}
                                       for e in entries]))
bad = [dict(e) for e in entries]; bad[2]["dtype_name"] = "float128"
write("baddtype", dict(manifest, leaves=bad))
bad = [dict(e) for e in entries]; bad[0]["data_bytes"] += 4
write("badbytes", dict(manifest, leaves=bad))
bad = [dict(e) for e in entries]; bad[1]["offset"] = manifest["stream_bytes"]
write("short", dict(manifest, leaves=bad))
PY
D=$tmp/data

# fails WANT CMD...: CMD exits non-zero and says WANT.
fails () {
  want=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    echo "test-bench: expected a failure: $*" >&2
    exit 1
  fi
  if ! grep -q -- "$want" "$tmp/out"; then
    echo "test-bench: expected '$want' from: $*" >&2
    cat "$tmp/out" >&2
    exit 1
  fi
}

echo "== leafio-bench"
"$bench" save tiny "$D" "$tmp/serial.eqx" --reps 2 | tee "$tmp/out"
grep -q "^identical tiny" "$tmp/out"
cmp "$D/tiny.eqx" "$tmp/serial.eqx"
"$bench" load tiny "$D" "$D/tiny.eqx" --reps 2 --verify | tee "$tmp/out"
grep -q "^verify tiny ok" "$tmp/out"
grep -q "^load tiny [0-9.]* s .* 8 leaves .* B .*rep 2/2$" "$tmp/out"
fails "not a workload manifest: no leaves" "$bench" save noleaves "$D" "$tmp/x.eqx"
fails "nopath.json: leaf 0: wants an object" "$bench" save nopath "$D" "$tmp/x.eqx"
fails "leaf .layers\[0\].b: unknown dtype_name float128" "$bench" save baddtype "$D" "$tmp/x.eqx"
fails "leaf .embed: data_bytes 164" "$bench" save badbytes "$D" "$tmp/x.eqx"
fails "short.eqx: leaf .layers\[0\].w: end of file" "$bench" save short "$D" "$tmp/x.eqx"
fails "missing.json" "$bench" save missing "$D" "$tmp/x.eqx"
fails "usage" "$bench" save tiny "$D"

echo "== leafio-bench: first load, durable save, async save, random access"
"$bench" load tiny "$D" "$D/tiny.eqx" --verify | tee "$tmp/out"
grep -q "^load tiny [0-9.]* s .*rep 1/1$" "$tmp/out"
grep -q "^verify tiny ok" "$tmp/out"
"$bench" save tiny "$D" "$tmp/durable.eqx" --sync --reps 2 | grep -q "^identical tiny"
cmp "$D/tiny.eqx" "$tmp/durable.eqx"
for how in "" --borrowed; do
  "$bench" async-save tiny "$D" "$tmp/steps" --reps 2 --verify $how | tee "$tmp/out"
  grep -q "^async-save${how:+-borrowed} tiny [0-9.]* s .*rep 2/2$" "$tmp/out"
  grep -q "^async-durable${how:+-borrowed} tiny [0-9.]* s .*rep 2/2$" "$tmp/out"
  # The last step, byte for byte numpy's stream (borrowed: though its
  # buffers were overwritten as soon as the call returned).
  grep -q "^identical tiny numpy stream sha256 .* (async${how:+, borrowed})$" "$tmp/out"
done
"$bench" save tiny "$D" "$tmp/indexed.eqx" --manifest >/dev/null
test -f "$tmp/indexed.eqx.json"
"$bench" open tiny "$D" "$tmp/indexed.eqx" --reps 2 --verify | tee "$tmp/out"
for what in open-scan open-manifest read-leaf pread-leaf; do
  grep -q "^$what tiny [0-9.]* s .*rep 2/2$" "$tmp/out"
done
# The middle byte of the file lies in .layers[1].w's record (624 + 152 B).
grep -q "^verify tiny leaf .layers\[1\].w ok (152 B at 624)$" "$tmp/out"
fails "has no usable manifest" "$bench" open tiny "$D" "$tmp/durable.eqx"
# A load of a file with a manifest checks each record as it reads it.
"$bench" load tiny "$D" "$tmp/indexed.eqx" --verify | grep -q "^verify tiny ok"
fails "usage" "$bench" copy tiny "$D" "$tmp/x.eqx"

# bench/run's new groups end to end on a small workload, one round, and
# the chart of their RATIO lines.
shared=${LF_SHARED_BENCH:-}
# As bench/run looks for it: beside the source tree, or one level up.
for cand in "$shared" "$LF_BENCH_SRCDIR/../../shared/bench" \
            "$LF_BENCH_SRCDIR/../../../shared/bench"; do
  if [ -n "$cand" ] && [ -f "$cand/limits.c" ]; then shared=$cand; break; fi
done
if [ -f "$shared/limits.c" ] && command -v gcc >/dev/null; then
  echo "== bench/run --workload little"
  mkdir -p "$tmp/scratch/data"
  cp "$D/little.json" "$D/little.eqx" "$tmp/scratch/data/"
  LF_SHARED_BENCH=$shared "$LF_PYTHON" "$LF_BENCH_SRCDIR/run" --rounds 1 \
    --scratch "$tmp/scratch" --workload little \
    --only first-load,durable-save,async-save,random-access >"$tmp/run.out" 2>&1 ||
    { cat "$tmp/run.out" >&2; exit 1; }
  cat "$tmp/run.out"
  for r in first_load_large_vs_numpy first_load_large_vs_read_fresh_limit \
           first_checked_load_large_vs_numpy \
           durable_save_large_vs_write_fsync_limit async_save_owned_vs_1ms \
           async_save_borrowed_vs_memcpy open_manifest_vs_1ms open_scan_vs_5ms \
           read_leaf_vs_pread random_leaf_vs_numpy_whole_file; do
    grep -q "^RATIO $r [0-9][0-9.]*\( target [0-9.]*\)\?$" "$tmp/run.out" ||
      { echo "test-bench: no value for RATIO $r" >&2; exit 1; }
  done
  if "$LF_PYTHON" -c "import matplotlib" 2>/dev/null; then
    "$LF_PYTHON" "$LF_BENCH_SRCDIR/plot" -o "$tmp/ratios.svg" "$tmp/run.out" | tee "$tmp/out"
    grep -q "^bench/plot: 1[0-9] ratios, [0-9]* of [0-9]* targets met" "$tmp/out"
    grep -q "<svg" "$tmp/ratios.svg"
    grep -q "random leaf vs numpy whole file" "$tmp/ratios.svg"
  fi
else
  echo "test-bench: no shared/bench or no gcc: bench/run part skipped"
fi

# The shuffled group's save: blosc records of tiny that load back equal.
if [ -e "${LEAFIO_PLUGIN_PATH:-}/blosc.so" ]; then
  echo "== leafio-bench, blosc"
  "$bench" save tiny "$D" "$tmp/blosc.eqx" --codec blosc --reps 2 | tee "$tmp/out"
  grep -q "^save tiny [0-9.]* s .* 8 leaves .* B .*rep 2/2$" "$tmp/out"
  "$bench" load tiny "$D" "$tmp/blosc.eqx" --codec blosc --verify | tee "$tmp/out"
  grep -q "^verify tiny ok" "$tmp/out"
else
  echo "test-bench: blosc plugin not built: blosc case not run"
fi

mpirun=${LF_MPIRUN:-}
if [ ! -x "$mpi_bench" ] || [ -z "$mpirun" ]; then
  echo "test-bench: leafio-mpi-bench not built or no mpirun: MPI part skipped"
  exit 0
fi
# As tests/test-mpi.sh: root in CI containers, no ptrace between ranks.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
run () {
  n=$1
  shift
  "$mpirun" --oversubscribe --allow-run-as-root -np "$n" "$mpi_bench" "$@"
}
for n in 1 2 3; do
  echo "== leafio-mpi-bench, $n ranks"
  run "$n" save tiny "$D" "$tmp/ranks-$n.eqx" --reps 2 --verify | tee "$tmp/out"
  grep -q "^identical tiny .* ($n ranks)" "$tmp/out"
  grep -q "^ranks $n tiny: 7 leaves sharded, 1 whole;" "$tmp/out"
  grep -q "^rss save tiny [0-9.]* MB$" "$tmp/out"
  cmp "$D/tiny.eqx" "$tmp/ranks-$n.eqx"
  run "$n" load tiny "$D" "$tmp/ranks-$n.eqx" --reps 2 --verify | tee "$tmp/out"
  grep -q "^verify tiny ok ($n ranks, each its rows)" "$tmp/out"
  grep -q "^load tiny [0-9.]* s .* 8 leaves .* B .*rep 2/2$" "$tmp/out"
done
fails "baddtype.json: leaf .layers\[0\].b: unknown dtype_name" run 2 save baddtype "$D" "$tmp/x.eqx"
# The stream ends before .layers[0].w's rows: each rank names its own failure.
fails "rank 1: workload: .*short.eqx: leaf .layers\[0\].w: end of file" \
  run 2 save short "$D" "$tmp/x.eqx"
fails "usage" run 2 load tiny "$D"
echo "test-bench: ok"
