#!/usr/bin/env bash
# Generates the seed corpora of the fuzz targets from real files:
#   - npy records written by numpy itself (every dtype, 0-d, empty, Fortran
#     order, big-endian, format versions 1.0/2.0/3.0) plus the refused kinds
#     (object arrays with their pickles, structured and string dtypes);
#   - the fuzz tree saved by the library with each load target's codec,
#     and the same records re-written by numpy (np.load then np.save);
#   - codec references, valid and not.
# usage: fuzz/make-seeds.sh BUILD_DIR   (run.sh calls it; seeds go to BUILD_DIR/seeds)
set -euo pipefail
build=$1
seeds=$build/seeds
python=${LF_PYTHON:-/usr/bin/python3}
rm -rf "$seeds"
mkdir -p "$seeds"/fuzz-npy-header "$seeds"/fuzz-codec-ref

# ---- load targets: the library writes the tree with each target's codec ----
for writer in "$build"/fuzz-load-*; do
  [ -x "$writer" ] || continue
  target=$(basename "$writer")
  reference=$(cat "$build/$target.codec")
  mkdir -p "$seeds/$target"
  "$build/seed-writer" "$reference" "$seeds/$target/tree.eqx"
done

# ---- numpy: single records, and the npy tree re-written record by record ----
"$python" - "$seeds" <<'EOF'
import io, os, sys
import numpy as np

seeds = sys.argv[1]
hdr = os.path.join(seeds, "fuzz-npy-header")

def save(name, array, version=None, **kw):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, array, **kw)
    else:
        np.lib.format.write_array(buf, np.asanyarray(array), version=version, **kw)
    with open(os.path.join(hdr, name), "wb") as f:
        f.write(buf.getvalue())

dtypes = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]
for dt in dtypes:
    save("le-" + dt, np.arange(6).reshape(2, 3).astype("<" + dt))
    if np.dtype(dt).itemsize > 1:
        save("be-" + dt, np.arange(6).reshape(2, 3).astype(">" + dt))
save("scalar-0d", np.float64(3.5))
save("empty", np.zeros((2, 0, 3), "f4"))
save("fortran", np.asfortranarray(np.arange(24, dtype="i4").reshape(2, 3, 4)))
save("v2", np.arange(5, dtype="f4"), version=(2, 0))
save("v3", np.arange(5, dtype="f4"), version=(3, 0))
save("many-dims", np.zeros((1,) * 32, "u1"))
save("bfloat16-as-V2", np.zeros(3, "V2"))
save("object-pickle", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
save("structured", np.zeros(2, dtype=[("x", "<f4"), ("y", "<i8")]))
save("unicode", np.array(["ab", "c"]))
save("datetime", np.array(["2024-01-01"], dtype="datetime64[D]"))

# The library's npy tree, re-written by numpy: the same records as numpy
# writes them, and variants numpy can also write (big-endian, Fortran).
src = os.path.join(seeds, "fuzz-load-npy", "tree.eqx")
if os.path.exists(src):
    with open(src, "rb") as f:
        records = []
        while f.tell() < os.fstat(f.fileno()).st_size:
            records.append(np.load(f))
    for name, change in [("numpy", lambda a: a),
                         ("big-endian", lambda a: a.astype(a.dtype.newbyteorder(">"))
                          if a.dtype.itemsize > 1 and a.dtype.kind != "V" else a),
                         ("fortran", np.asfortranarray)]:
        with open(os.path.join(seeds, "fuzz-load-npy", name + ".eqx"), "wb") as f:
            for a in records:
                np.save(f, change(a))
    for i, a in enumerate(records[:4]):
        buf = io.BytesIO()
        np.save(buf, a)
        with open(os.path.join(hdr, "tree-record-%d" % i), "wb") as f:
            f.write(buf.getvalue())
EOF

# ---- codec references ----
i=0
for ref in 'npy' 'npy(align=64)' 'npy(align=4096)' 'npy()' 'npy(align=63)' \
           'opts(level=19, flag=yes, mode=exact, label="a b\"c", inner=npy(align=128))' \
           "opts(inner=opts(inner=opts(level=-5)), label='x')" 'opts(level=99)' \
           'compressed(level=9, inner=float16)' 'float16' 'skip-arrays' 'cast(dtype=float32)' \
           'nope' 'npy(align=64' 'opts(level=1, level=2)' ; do
  printf '%s' "$ref" > "$seeds/fuzz-codec-ref/ref-$i"
  i=$((i + 1))
done
# ---- JSON specs, path rules (fitting the fuzz tree, and not) ----
mkdir -p "$seeds"/fuzz-spec-json "$seeds"/fuzz-rules "$seeds"/fuzz-skeleton
i=0
for spec in '"npy"' '"compressed(level=3, inner=float16)"' 'null' '[]' \
    '{"$struct": "Model", "arrays": "npy", "scalars": "npy", "extra": "npy"}' \
    '{"$struct": "Model", "arrays": "float16", "scalars": {"$tuple": ["npy", "npy", "npy", "npy"]}, "extra": {"a": "npy", "b": null, "c": "npy"}}' \
    '{"$struct": "Model", "arrays": ["npy", "float16", "compressed", "skip-arrays", "npy", "npy", "npy", "npy", "npy", "npy", "npy", "cast(dtype=float32)"], "scalars": "skip-arrays", "extra": "npy"}' \
    '{"$struct": "Other", "x": "npy"}' '{"a": [1, 2], "b": {"$tuple": []}}' '"nope"' '{"$struct": 3}' '[' ; do
  printf '%s' "$spec" > "$seeds/fuzz-spec-json/spec-$i"
  i=$((i + 1))
done
i=0
for rules in $'.arrays[0] = float16\n.arrays[*] = compressed(level=1)\n# comment\n\n.scalars* = npy\n' \
    $'*.c = skip-arrays\n*[1?] = npy(align=64)\n' $'* = float16\n' $'.arrays[3] = nope\n' \
    $'no equals sign\n' $'.extra[\'c\'] = cast(dtype=complex64)\n= npy\n' ; do
  printf '%s' "$rules" > "$seeds/fuzz-rules/rules-$i"
  i=$((i + 1))
done
i=0
for skeleton in '{"$struct": "Model", "arrays": [{"dtype": "float32", "shape": [3, 2]}, {"dtype": "bfloat16", "shape": []}], "scalars": {"$tuple": [{"scalar": "bool", "value": true}, {"scalar": "int64", "value": -3}, {"scalar": "float64", "value": 0.25}, {"scalar": "complex128", "value": [1, -2]}]}, "extra": {"a": {"opaque": "fn"}, "b": null}}' \
    '[{"dtype": "uint8", "shape": [0, 4]}, {"$tuple": []}, {}]' '{"scalar": "float16", "value": 1e9}' \
    '{"dtype": "float32", "shape": [-1]}' '{"$struct": "A", "$struct": "B"}' ; do
  printf '%s' "$skeleton" > "$seeds/fuzz-skeleton/skeleton-$i"
  i=$((i + 1))
done
# ---- JSON side inputs: specs, skeletons, a manifest, comments hiding things ----
mkdir -p "$seeds"/fuzz-json-side
cp "$seeds"/fuzz-spec-json/* "$seeds"/fuzz-skeleton/* "$seeds"/fuzz-json-side/
i=0
for text in '[/*"*/[[[[[[[[[[[[[[[[[[[[' "[/*'*/[[[[[[[[[" $'[// "\n[[[[[[[' $'# "\n[[[[' \
    '{"a": /* x */ null}' '["/* not a comment */"]' \
    '{"format": "leafio-manifest", "version": 1, "file": "model.eqx", "size": 256, "checksum": "xxh3-64", "n_leaves": 2, "n_records": 2, "skeleton": [{"scalar": "int64", "value": 3}, {"scalar": "float64", "value": 0.5}], "leaves": [{"path": "[0]", "kind": "scalar", "dtype": "int64", "codec": "npy", "record": {"offset": 0, "size": 128, "xxh3": "0000000000000000"}}, {"path": "[1]", "kind": "scalar", "dtype": "float64", "codec": "npy", "record": {"offset": 128, "size": 128, "xxh3": "0000000000000000"}}]}' ; do
  printf '%s' "$text" > "$seeds/fuzz-json-side/side-$i"
  i=$((i + 1))
done
# ---- the describe step: the npy and compressed records of the load seeds ----
mkdir -p "$seeds"/fuzz-codec-describe
cp "$seeds"/fuzz-npy-header/* "$seeds"/fuzz-codec-describe/ 2>/dev/null || true
for t in fuzz-load-npy fuzz-load-compressed fuzz-load-float16; do
  if [ -f "$seeds/$t/tree.eqx" ]; then
    cp "$seeds/$t/tree.eqx" "$seeds/fuzz-codec-describe/$t.eqx"
  fi
done
if [ -x "$build/seed-writer" ]; then
  "$build/seed-writer" --skeleton "$seeds/fuzz-skeleton/fuzz-tree.json" 2>/dev/null || true
fi

echo "make-seeds: $(find "$seeds" -type f | wc -l) seeds in $seeds"
