#!/bin/sh
# leafio show, verify, ls and diff --values/--json/paths, on files numpy and
# tests/cli-fixture write; show's output is compared with numpy's own
# array2string.  Run by `make check` with the Python configure found.
set -eu

top=${LF_TOP_BUILDDIR:-..}
builddir=${LF_TEST_BUILDDIR:-.}
py=${LF_PYTHON:-/usr/bin/python3}
leafio="$top/tools/leafio"
fixture="$builddir/cli-fixture"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-cli-commands-XXXXXX")
holder=
cleanup () {
  [ -z "$holder" ] || kill "$holder" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail () { echo "FAIL: $*" >&2; exit 1; }
# expect STATUS CMD...: runs CMD with stdout in $tmp/out, stderr in $tmp/err.
expect () {
  want=$1; shift
  status=0; "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
  [ "$status" -eq "$want" ] ||
    fail "$* exited $status, expected $want; stdout: $(cat "$tmp/out"); stderr: $(cat "$tmp/err")"
}
has () { grep -q -- "$2" "$tmp/$1" || fail "$1 lacks '$2': $(cat "$tmp/$1")"; }

for cmd in show verify ls; do
  expect 0 "$leafio" "$cmd" --help
  has out "leafio $cmd"
done
expect 0 "$leafio" --help
has out "show " ; has out "verify " ; has out "ls "

# ---- files: arrays of many dtypes and shapes, as np.save writes them ---------
cd "$tmp"
"$py" - <<'EOF'
import json
import numpy as np
rng = np.random.default_rng(7)
arrays = [
    np.arange(6, dtype=np.float32).reshape(2, 3) / 7,      # float32, 2-D
    np.array(3.5),                                         # 0-d float64
    np.array([True, False, True]),                         # bool
    np.array([0.1, 65504, -2.5], dtype=np.float16),        # float16, scientific
    np.arange(-5, 2000, dtype=np.int64).reshape(1, -1) * 1000003,  # summarised row
    np.array([1 + 2j, np.nan + 1j, 3 - 4.5j], dtype=np.complex64),
    np.array([1.5, np.nan, -np.inf, 1e-7]),                # NaN, inf
    np.linspace(0, 1, 2400).reshape(2, 30, 40),            # 3-D, summarised
    np.array(-7, dtype=np.int8),                           # 0-d int
    np.array([], dtype=np.float32),                        # empty
    rng.standard_normal((5, 7)).astype(np.float32),        # wrapped lines
    np.array([1e-5, 1e100]),                               # 3-digit exponents
    np.array([[1, 2], [3, 4]], dtype=np.uint64) * 2**62,   # uint64 past int64
    np.array([0.1 + 0.2, 1 / 3]),                          # rounded to 8 digits
    np.array(1e20),
    np.array([-0.0, 1.0, 2.5]),                            # negative zero
    np.array(False),                                       # 0-d bool
    np.array([np.inf, np.nan], dtype=np.float32),          # no finite value
    np.arange(12, dtype=np.uint8).reshape(3, 4),
    np.array([1e8, 1.5], dtype=np.float64),
    (rng.standard_normal(3000) * 1000).astype(np.float32).reshape(3, 1000),
    np.array([1 + 1j, -2.5 - 0.5j]),                       # complex128
]
with open("many.eqx", "wb") as f:
    for a in arrays:
        np.save(f, a)
json.dump([{"dtype": a.dtype.name, "shape": list(a.shape)} for a in arrays],
          open("many.skel.json", "w"))
with open("many.expected", "w") as f:
    for a in arrays:
        f.write(np.array2string(a) + "\n")
with open("many.count", "w") as f:
    f.write(str(len(arrays)))

# A model: a dict the fixture resaves with a manifest.
model = {"b": rng.standard_normal(3).astype(np.float32),
         "layers": [rng.standard_normal((4, 5)).astype(np.float32),
                    rng.standard_normal((300, 400)).astype(np.float32)],
         "n": np.arange(6, dtype=np.int32)}
with open("model-plain.eqx", "wb") as f:
    for a in (model["b"], model["layers"][0], model["layers"][1], model["n"]):
        np.save(f, a)
skel = {"b": {"dtype": "float32", "shape": [3]},
        "layers": [{"dtype": "float32", "shape": [4, 5]},
                   {"dtype": "float32", "shape": [300, 400]}],
        "n": {"dtype": "int32", "shape": [6]}}
json.dump(skel, open("model.skel.json", "w"))
w = model["layers"][0]
with open("stats.expected", "w") as f:
    f.write("%r %r %r %r\n" % (float(w.min()), float(w.max()), float(w.astype(np.float64).mean()),
                               float(w.astype(np.float64).std())))
EOF

# ---- show: numpy's layout, every dtype -------------------------------------
n=$(cat many.count)
i=0
: >many.got
while [ "$i" -lt "$n" ]; do
  "$leafio" show --like many.skel.json many.eqx "[$i]" >>many.got || fail "show [$i]"
  i=$((i + 1))
done
diff -u many.expected many.got >&2 || fail "show differs from numpy's array2string"

"$fixture" resave model-plain.eqx model.skel.json model.eqx
"$fixture" resave model-plain.eqx model.skel.json model-f16.eqx float16
[ -f model.eqx.json ] || fail "the fixture wrote no manifest"

# From the manifest, without --like.
expect 0 "$leafio" show model.eqx "['n']"
[ "$(cat out)" = "[0 1 2 3 4 5]" ] || fail "show ['n']: $(cat out)"
# --stats against numpy's numbers.
expect 0 "$leafio" show --stats model.eqx "['layers'][0]"
has out "^dtype *float32$"; has out "^shape *(4, 5)$"; has out "^codec *npy$"
has out "^elements *20$"; has out "^nan *0$"; has out "^inf *0$"
"$py" - out stats.expected <<'EOF'
import sys
got = dict(line.split(None, 1) for line in open(sys.argv[1]).read().splitlines())
want = [float(x) for x in open(sys.argv[2]).read().split()]
for name, value in zip(("min", "max", "mean", "std"), want):
    assert abs(float(got[name]) - value) <= 1e-6 * max(1, abs(value)), (name, got[name], value)
EOF
expect 0 "$leafio" show --stats --like many.skel.json many.eqx "[6]"
has out "^nan *1$"; has out "^inf *1$"; has out "^min *1e-07$"; has out "^max *1.5$"
expect 0 "$leafio" show --stats --like many.skel.json many.eqx "[9]"
has out "^elements *0$"; has out "^min *-$"

# A path that is not there: close matches, exit 2.
expect 2 "$leafio" show model.eqx "['layers'][3]"
has err "Close matches:"; has err "\['layers'\]\[0\]"
expect 2 "$leafio" show model.eqx "weight"
has err "weight"
expect 2 "$leafio" show model.eqx "['layers']"
has err "is a subtree"
# No manifest and no --like: the records are named [0], [1], ... as inspect
# numbers them (numpy's own files, every dtype), and a tree path says so.
expect 2 "$leafio" show model-plain.eqx "['n']"
has err "model-plain.eqx: no key \['n'\] in list of 4"
has err "named by record: \[0\] to \[3\]"
expect 0 "$leafio" show model-plain.eqx "[3]"
[ "$(cat out)" = "[0 1 2 3 4 5]" ] || fail "show [3] by record: $(cat out)"
expect 2 "$leafio" show model-plain.eqx "[4]"
has err "named by record: \[0\] to \[3\]"
expect 2 "$leafio" show model-plain.eqx ""
has err "is a subtree"; has err "named by record"
i=0
: >many.by-record
while [ "$i" -lt "$n" ]; do
  "$leafio" show many.eqx "[$i]" >>many.by-record || fail "show [$i] by record"
  i=$((i + 1))
done
diff -u many.expected many.by-record >&2 || fail "show by record differs from numpy's"
# A file of one record: "" names its leaf, as for a tree of one leaf.
"$py" -c 'import numpy as np; np.save("one.eqx", np.arange(3, dtype=np.int16))'
mv one.eqx.npy one.eqx 2>/dev/null || true
expect 0 "$leafio" show one.eqx ""
[ "$(cat out)" = "[0 1 2]" ] || fail "show of a one-record file: $(cat out)"
expect 0 "$leafio" show one.eqx "[0]"
: >empty.eqx
expect 2 "$leafio" show empty.eqx "[0]"
has err "holds no records"
expect 2 "$leafio" show --like nope.json model-plain.eqx "['n']"
has err "nope.json"
expect 2 "$leafio" show model.eqx
expect 2 "$leafio" show missing.eqx "['n']"

# Only the leaf's record is read: the bytes read from the file are the
# record's (strace), and a file whose other records are damaged still shows it.
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
  bin="$top/tools/.libs/leafio"
  [ -x "$bin" ] || bin="$top/tools/leafio"
  # (LeakSanitizer cannot run under ptrace: sanitizer builds skip the leak check here.)
  LD_LIBRARY_PATH="$top/core/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -y -e trace=read,pread64 -o trace.txt "$bin" show model.eqx "['n']" >/dev/null ||
    fail "show under strace"
  "$py" - trace.txt model.eqx.json <<'EOF'
import json, re, sys
manifest = json.load(open(sys.argv[2]))
record = [l["record"] for l in manifest["leaves"] if l["path"] == "['n']"][0]
total = 0
for line in open(sys.argv[1]):
    m = re.search(r"(?:read|pread64)\(\d+<[^>]*/model\.eqx>.*\) = (\d+)", line)
    if m:
        total += int(m.group(1))
assert total == record["size"], (total, record)
EOF
else
  echo "strace cannot run here: the byte count is not checked (the damaged-file check is)"
fi
cp model.eqx damaged.eqx
cp model.eqx.json damaged.eqx.json
"$py" - damaged.eqx.json damaged.eqx <<'EOF'
import json, sys
manifest = json.load(open(sys.argv[1]))
data = bytearray(open(sys.argv[2], "rb").read())
for leaf in manifest["leaves"]:
    if leaf["path"] != "['n']":
        r = leaf["record"]
        data[r["offset"]:r["offset"] + r["size"]] = b"\xff" * r["size"]
open(sys.argv[2], "wb").write(data)
EOF
expect 0 "$leafio" show damaged.eqx "['n']"
[ "$(cat out)" = "[0 1 2 3 4 5]" ] || fail "show of a damaged file: $(cat out)"
expect 2 "$leafio" show damaged.eqx "['b']"
# A file whose later records are cut off or followed by garbage: the
# leaves before the damage show (with a warning naming the broken record),
# without a manifest, with --like, and with a manifest gone stale; the
# broken record and those after it are errors that name it.
head -c 2000 model-plain.eqx >cut.eqx         # inside ['layers'][1], record 2
{ cat model-plain.eqx; printf 'garbage after the last record'; } >tail.eqx
expect 0 "$leafio" show cut.eqx "[1]"
[ "$(cat out)" = "$("$leafio" show model-plain.eqx "[1]")" ] || fail "show [1] of a cut file"
has err "warning: the file is damaged: cut.eqx: record 2 (offset"
expect 2 "$leafio" show cut.eqx "[2]"
has err "cut.eqx: record 2 (offset"; has err "\[0\] to \[1\], can be read"
expect 2 "$leafio" show cut.eqx "[3]"
has err "cut.eqx: record 2 (offset"
expect 0 "$leafio" show tail.eqx "[3]"
[ "$(cat out)" = "[0 1 2 3 4 5]" ] || fail "show [3] before trailing garbage: $(cat out)"
has err "warning: the file is damaged: tail.eqx: record 4"
expect 0 "$leafio" show --like model.skel.json cut.eqx "['layers'][0]"
has err "record 2 at offset [0-9]* (\['layers'\]\[1\]): the record needs"
expect 2 "$leafio" show --like model.skel.json cut.eqx "['n']"
has err "record 3 (\['n'\]) lies past where the index stopped: cut.eqx: record 2"
expect 0 "$leafio" show --like model.skel.json tail.eqx "['n']"
has err "bytes after the last record"
head -c 2000 model.eqx >cut-manifest.eqx
cp model.eqx.json cut-manifest.eqx.json
expect 0 "$leafio" show cut-manifest.eqx "['b']"
has err "not using the manifest"; has err "the file is damaged"
expect 2 "$leafio" show cut-manifest.eqx "['n']"
# inspect lists the records it can read before naming the broken one, in
# JSON as in text.
expect 2 "$leafio" inspect --json cut.eqx
"$py" -c 'import json, sys; rows = json.load(open(sys.argv[1]))
assert [r["record"] for r in rows] == [0, 1], rows' out ||
  fail "inspect --json of a cut file: $(cat out)"
has err "cut.eqx: record 2 (offset"

# ---- verify ------------------------------------------------------------------
expect 0 "$leafio" verify model.eqx
has out "model.eqx: OK (4 records, checked against its manifest)"
expect 0 "$leafio" verify --like model.skel.json model-plain.eqx
has out "model-plain.eqx: OK (4 records, checked against model.skel.json)"
expect 0 "$leafio" verify --like model.skel.json --spec float16 model-f16.eqx
expect 0 "$leafio" verify -q model.eqx model-f16.eqx
[ ! -s out ] || fail "verify -q printed: $(cat out)"
# A damaged record: exit 1, naming the record, its path and offset.
expect 1 "$leafio" verify damaged.eqx
has err "damaged.eqx.json: \['b'\]: record 0 at offset 0"; has err "checksum"
# A stale manifest: the file changed after it was written.
cp model.eqx stale.eqx; cp model.eqx.json stale.eqx.json
printf 'more' >>stale.eqx
expect 1 "$leafio" verify stale.eqx
has err "the file changed after the manifest was written"
# show does not trust it either: the records are described instead, and the
# extra bytes are reported; the leaf before them shows.
expect 0 "$leafio" show stale.eqx "['n']"
has err "not using the manifest"; has err "stale.eqx: 4 bytes after the last record"
[ "$(cat out)" = "[0 1 2 3 4 5]" ] || fail "show before a stale manifest's extra bytes: $(cat out)"
# A manifest that lists a record elsewhere than the file has it.
"$py" - model.eqx.json moved.eqx.json <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["leaves"][1]["record"]["offset"] += 1
json.dump(m, open(sys.argv[2], "w"))
EOF
cp model.eqx moved.eqx
expect 1 "$leafio" verify moved.eqx
has err "\['layers'\]\[0\]: record 1 at offset"
# Structure with --like: a wrong skeleton, trailing bytes, a cut file.
sed 's/\[4, 5\]/[5, 4]/' model.skel.json >wrong.skel.json
expect 1 "$leafio" verify --like wrong.skel.json model-plain.eqx
has err "record 1"; has err "\['layers'\]\[0\]"
cp model-plain.eqx trailing.eqx; printf 'x' >>trailing.eqx
expect 1 "$leafio" verify --like model.skel.json trailing.eqx
has err "1 bytes left"
head -c 300 model-plain.eqx >cut.eqx
expect 1 "$leafio" verify --like model.skel.json cut.eqx
has err "cut.eqx: record 1"
# Errors: no manifest, a missing file, bad usage; the worst status wins.
expect 2 "$leafio" verify model-plain.eqx
has err "no manifest beside the file"
expect 2 "$leafio" verify missing.eqx
expect 2 "$leafio" verify --spec float16 model.eqx
has err "--spec needs --like"
expect 2 "$leafio" verify
expect 2 "$leafio" verify model.eqx damaged.eqx model-plain.eqx
has out "model.eqx: OK"
expect 1 "$leafio" verify model.eqx damaged.eqx

# ---- ls ------------------------------------------------------------------------
"$fixture" checkpoints steps 3
expect 0 "$leafio" ls steps
has out "STEP"
has out "^\* *300 .* epoch=3 loss=0.0033333333333333335$"
has out "^  *100 .* epoch=1 loss=0.01$"
has out "3 steps; \* latest: 300 (steps/step-00000300.eqx)"
expect 0 "$leafio" ls -H steps
has out "bytes\|KiB"
expect 0 "$leafio" ls --json steps
"$py" - out <<'EOF'
import json, sys
listing = json.load(open(sys.argv[1]))
assert listing["latest"] == 300, listing
assert [s["step"] for s in listing["steps"]] == [100, 200, 300], listing
assert listing["steps"][1]["metrics"] == {"epoch": 2, "loss": 0.005}, listing
assert all(s["size"] > 0 and s["time"].endswith("Z") for s in listing["steps"]), listing
EOF
# While a manager holds the directory's lock (a training process would).
mkfifo hold.in
"$fixture" hold steps <hold.in >hold.out &
holder=$!
exec 9>hold.in
n=0
until grep -q locked hold.out 2>/dev/null; do
  n=$((n + 1)); [ "$n" -lt 100 ] || fail "the fixture did not take the lock"; sleep 0.1
done
expect 1 "$fixture" checkpoints steps 1
has err "another checkpoint manager"
expect 0 "$leafio" ls steps
has out "3 steps"
exec 9>&-
wait "$holder" || fail "the lock holder failed"
holder=
# Empty, missing, not a directory.
mkdir empty
expect 0 "$leafio" ls empty
has out "empty: no committed steps"
expect 0 "$leafio" ls --json empty
has out '"latest" : null'
expect 2 "$leafio" ls missing-dir
has err "missing-dir: cannot list: No such file or directory"
expect 2 "$leafio" ls model.eqx
has err "model.eqx: cannot list: not a directory"
expect 2 "$leafio" ls

# ---- diff: --values, --json, paths -----------------------------------------
# A file and its float16 copy: without --values the dtype change is a
# difference, and every line says so as the summary does.
expect 1 "$leafio" diff --atol 1e-2 model.eqx model-f16.eqx
has out "^\['b'\] (record 0, offset 0): float32 (3,) vs float16 (3,): dtypes differ; values equal within tolerance"
has out "differ: 3 of 4 compared records differ (3 only in dtype: --values compares values alone)"
[ "$(grep -c 'dtypes differ' out)" -eq 3 ] || fail "diff lines: $(cat out)"
expect 0 "$leafio" diff --values --atol 1e-2 model.eqx model-f16.eqx
[ ! -s out ] || fail "diff --values printed: $(cat out)"
expect 0 "$leafio" diff --values --atol 1e-2 --verbose model.eqx model-f16.eqx
has out "\['n'\] (record 3, offsets"; has out "int32 (6,): equal$"
expect 1 "$leafio" diff --values model.eqx model-f16.eqx
has out "elements differ"; has out "differ: 3 of 4 compared records differ$"
expect 1 "$leafio" diff --brief --values model.eqx model-f16.eqx
[ ! -s out ] || fail "diff --brief printed: $(cat out)"
# --json: the records, the totals and the exit status agree.
for args in "--values --atol 1e-2" "--values" "--atol 1e-2" ""; do
  status=0
  # shellcheck disable=SC2086
  "$leafio" diff --json $args model.eqx model-f16.eqx >diff.json || status=$?
  [ "$status" -le 1 ] || fail "diff --json $args exited $status"
  "$py" - diff.json "$status" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
status = int(sys.argv[2])
records = d["records"]
assert len(records) == d["n_records"] == 4, d
assert [r["path"] for r in records] == ["['b']", "['layers'][0]", "['layers'][1]", "['n']"], d
assert sum(not r["equal"] for r in records) == d["n_different"], d
assert d["equal"] == (d["n_different"] == 0 and not d["counts_differ"]) == (status == 0), d
assert records[0]["compared_as"] == "float32" and records[0]["b"] == "float16 (3,)", d
EOF
done
# Paths from --like for files without a manifest.
"$fixture" resave model-plain.eqx model.skel.json plain-f16.eqx float16
rm plain-f16.eqx.json
expect 1 "$leafio" diff --like model.skel.json model-plain.eqx plain-f16.eqx
has out "^\['layers'\]\[1\] (record 2, offsets"
# Without either, records are numbered.
expect 1 "$leafio" diff model-plain.eqx plain-f16.eqx
has out "^record 0 (offset 0): float32 (3,) vs float16 (3,)"
expect 2 "$leafio" diff --spec float16 model.eqx model-f16.eqx
has err "--spec needs --like"
expect 2 "$leafio" diff --like wrong.skel.json model-plain.eqx plain-f16.eqx
has err "wrong.skel.json\|record 1"
# Different record counts.
head -c "$(stat -c %s model-plain.eqx)" model-plain.eqx >copy.eqx
"$py" -c "import numpy as np; np.save(open('copy.eqx', 'ab'), np.zeros(2))"
expect 1 "$leafio" diff --json model-plain.eqx copy.eqx
has out '"only_in"'; has out '"counts_differ" : true'
# stdin ('-') is a FILE too: show indexes it from memory, and diff names
# its records from --like whichever side is stdin.
expect 0 sh -c "\"\$1\" show - \"[1]\" < many.eqx" sh "$leafio"
[ "$(cat out)" = "3.5" ] || fail "show - [1]: $(cat out)"
expect 0 sh -c "cat model-plain.eqx | \"\$1\" show --like model.skel.json - \"['n']\"" \
  sh "$leafio"
[ "$(cat out)" = "[0 1 2 3 4 5]" ] || fail "show --like - ['n']: $(cat out)"
expect 2 sh -c "head -c 200 many.eqx | \"\$1\" show - \"[1]\"" sh "$leafio"
has err "^leafio: stdin: record 1 (offset 152)"
expect 1 sh -c "cat model-plain.eqx | \"\$1\" diff --like model.skel.json - plain-f16.eqx" \
  sh "$leafio"
has out "^\['layers'\]\[1\] (record 2, offsets"
expect 0 sh -c "\"\$1\" verify --like model.skel.json - < model-plain.eqx" sh "$leafio"
has out "^stdin: OK (4 records"
expect 2 sh -c "\"\$1\" verify - < model-plain.eqx" sh "$leafio"
has err "^leafio: stdin: no manifest to check against; give --like"
echo "PASS: show, verify, ls, diff"
