#!/bin/sh
# What users of zstd, h5ls and jq rely on, checked on the built `leafio`:
# '-' for stdin and stdout (files, pipes, FIFOs), -f before an output is
# replaced (and nothing written without it), the result line and -q, -H,
# inspect's summary and the manifest's leaf paths, -V, messages in leafio's
# own words, and the progress bar drawn under a pty in ASCII in the C locale.
set -eu

top=${LF_TOP_BUILDDIR:-..}
leafio="$top/tools/leafio"
loop="$top/examples/train-loop"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-cli-behaviour-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail () { echo "FAIL: $*" >&2; exit 1; }
# expect STATUS CMD...: runs CMD (stdout to $tmp/out, stderr to $tmp/err)
# and fails unless it exits with STATUS.
expect () {
  want=$1; shift
  status=0; "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
  [ "$status" -eq "$want" ] || fail "$* exited $status, not $want: $(cat "$tmp/err")"
}
has () { grep -q -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"; }

[ -x "$loop" ] || fail "$loop is not built (run make before make check)"
# A small checkpoint: three leaves saved with a manifest beside the file.
"$loop" "$tmp/run" 10 10 >/dev/null
src=$tmp/run/step-00000010.eqx
[ -f "$src.json" ] || fail "the example wrote no manifest"
cp "$src" "$tmp/plain.eqx"   # the same file without a manifest
mkdir "$tmp/npy"
"$leafio" unpack -q "$tmp/plain.eqx" "$tmp/npy"

# ---- -V, --version, --help --------------------------------------------------
expect 0 "$leafio" -V
has "$tmp/out" "^leafio [0-9]"
cp "$tmp/out" "$tmp/version"
expect 0 "$leafio" --version
cmp -s "$tmp/out" "$tmp/version" || fail "-V and --version differ"
expect 0 "$leafio" --help
has "$tmp/out" "-V, --version"

# ---- -f: an existing output is refused, and nothing is written ---------------
printf 'previous' >"$tmp/exists.eqx"
expect 2 "$leafio" pack "$tmp/exists.eqx" "$tmp/npy/000000.npy"
has "$tmp/err" "^leafio: $tmp/exists.eqx: already exists; use -f (--force) to replace it$"
[ "$(cat "$tmp/exists.eqx")" = previous ] || fail "pack wrote over its output without -f"
expect 2 "$leafio" convert --spec float16 "$tmp/plain.eqx" "$tmp/exists.eqx"
has "$tmp/err" "already exists; use -f"
[ "$(cat "$tmp/exists.eqx")" = previous ] || fail "convert wrote over its output without -f"
# ".eqx" is added to OUT before the check.
expect 2 "$leafio" convert --spec npy "$tmp/plain.eqx" "$tmp/exists"
[ -z "$(find "$tmp" -maxdepth 1 -name '.*')" ] || fail "a temporary file was left behind"
expect 0 "$leafio" convert -f -q --spec npy "$tmp/plain.eqx" "$tmp/exists.eqx"
cmp -s "$tmp/exists.eqx" "$tmp/plain.eqx" || fail "convert -f wrote something else"
# unpack checks every file first: one that exists stops it before any is written.
mkdir "$tmp/some"
printf 'mine' >"$tmp/some/000002.npy"
expect 2 "$leafio" unpack "$tmp/plain.eqx" "$tmp/some"
has "$tmp/err" "000002.npy: already exists"
[ "$(ls "$tmp/some")" = 000002.npy ] || fail "unpack wrote files before refusing: $(ls "$tmp/some")"
[ "$(cat "$tmp/some/000002.npy")" = mine ] || fail "unpack replaced a file without -f"
expect 0 "$leafio" unpack -f -q "$tmp/plain.eqx" "$tmp/some"
[ "$(ls "$tmp/some" | wc -l)" -eq 3 ] || fail "unpack -f: $(ls "$tmp/some")"
# Replacing a file removes the manifest that described the old one.
cp "$src" "$tmp/with-manifest.eqx"; cp "$src.json" "$tmp/with-manifest.eqx.json"
expect 0 "$leafio" convert -f -q --spec float16 "$tmp/with-manifest.eqx" "$tmp/with-manifest.eqx"
[ ! -e "$tmp/with-manifest.eqx.json" ] || fail "convert -f left a stale manifest"

# ---- '-': stdin and stdout -----------------------------------------------------
"$leafio" inspect "$tmp/plain.eqx" >"$tmp/inspect-file"
"$leafio" inspect - <"$tmp/plain.eqx" >"$tmp/inspect-redirect"
cat "$tmp/plain.eqx" | "$leafio" inspect - >"$tmp/inspect-pipe"
cmp -s "$tmp/inspect-file" "$tmp/inspect-redirect" || fail "inspect - < file differs"
cmp -s "$tmp/inspect-file" "$tmp/inspect-pipe" || fail "cat | inspect - differs"
"$leafio" convert -q --spec float16 "$tmp/plain.eqx" "$tmp/f16.eqx"
"$leafio" convert -q --spec float16 - "$tmp/f16-redirect.eqx" <"$tmp/plain.eqx"
cat "$tmp/plain.eqx" | "$leafio" convert -q --spec float16 - "$tmp/f16-pipe.eqx"
"$leafio" convert -q --spec float16 "$tmp/plain.eqx" - | cat >"$tmp/f16-stdout.eqx"
for f in f16-redirect f16-pipe f16-stdout; do
  cmp -s "$tmp/f16.eqx" "$tmp/$f.eqx" || fail "convert through '-' ($f) differs"
done
# A named FIFO through '-'.
mkfifo "$tmp/fifo"
cat "$tmp/plain.eqx" >"$tmp/fifo" &
"$leafio" inspect - <"$tmp/fifo" >"$tmp/inspect-fifo"
wait
cmp -s "$tmp/inspect-file" "$tmp/inspect-fifo" || fail "inspect - < FIFO differs"
# skeleton and unpack read stdin too; pack reads one .npy from it.
cat "$tmp/plain.eqx" | "$leafio" skeleton - >"$tmp/skel-pipe"
"$leafio" skeleton "$tmp/plain.eqx" | cmp -s - "$tmp/skel-pipe" || fail "skeleton - differs"
cat "$tmp/plain.eqx" | "$leafio" unpack -q - "$tmp/unpacked-pipe"
cmp -s "$tmp/npy/000002.npy" "$tmp/unpacked-pipe/000002.npy" || fail "unpack - differs"
"$leafio" pack -q "$tmp/packed.eqx" "$tmp/npy/000000.npy" "$tmp/npy/000001.npy"
cat "$tmp/npy/000001.npy" | "$leafio" pack -q "$tmp/twice.eqx" - "$tmp/npy/000000.npy" - \
  2>"$tmp/err" && fail "pack read stdin twice"
[ ! -e "$tmp/twice.eqx" ] || fail "pack wrote an output after an error"
has "$tmp/err" "named twice"
cat "$tmp/npy/000001.npy" | "$leafio" pack -q - "$tmp/npy/000000.npy" - | cmp -s - "$tmp/packed.eqx" \
  || fail "pack OUT '-' with an input from '-' differs"
# A pipe is read into memory whole, up to LEAFIO_MAX_STDIN (default half the
# memory): a pipe that never ends stops there, with exit 2 and a message.
size=$(wc -c <"$tmp/plain.eqx" | tr -d ' ')
cat "$tmp/plain.eqx" | LEAFIO_MAX_STDIN=$size "$leafio" inspect - >"$tmp/out" \
  || fail "inspect - of a pipe at LEAFIO_MAX_STDIN failed"
cat "$tmp/plain.eqx" | LEAFIO_MAX_STDIN=$((size - 1)) "$leafio" inspect - 2>"$tmp/err" \
  && fail "inspect - read past LEAFIO_MAX_STDIN"
has "$tmp/err" "stdin: more than $((size - 1)) bytes: too large to hold in memory"
cat /dev/zero | LEAFIO_MAX_STDIN=3M "$leafio" inspect - 2>"$tmp/err" \
  && fail "inspect - of an endless pipe succeeded"
has "$tmp/err" "stdin: more than 3145728 bytes"; has "$tmp/err" "LEAFIO_MAX_STDIN"
LEAFIO_MAX_STDIN=lots "$leafio" inspect - </dev/null 2>"$tmp/err" \
  && fail "a bad LEAFIO_MAX_STDIN was taken"
has "$tmp/err" "LEAFIO_MAX_STDIN: expected a size in bytes"
# --like reads stdin as a stream.
"$leafio" skeleton "$tmp/plain.eqx" >"$tmp/skel.json"
cat "$tmp/plain.eqx" | "$leafio" convert -q --like "$tmp/skel.json" --spec float16 - - \
  | cmp -s - "$tmp/f16.eqx" || fail "convert --like - - differs"

# ---- the result line, -q, -H ----------------------------------------------------
in_size=$(wc -c <"$tmp/plain.eqx" | tr -d ' ')
out_size=$(wc -c <"$tmp/f16.eqx" | tr -d ' ')
expect 0 "$leafio" convert -f --spec float16 "$tmp/plain.eqx" "$tmp/f16.eqx"
[ ! -s "$tmp/out" ] || fail "convert printed on stdout"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "convert's result is not one line: $(cat "$tmp/err")"
grep -Eq "^leafio: $tmp/plain.eqx -> $tmp/f16.eqx: $in_size -> $out_size bytes \([0-9]+\.[0-9]{2}%\), [0-9]+\.[0-9]{2} s" \
  "$tmp/err" || fail "result line: $(cat "$tmp/err")"
expect 0 "$leafio" convert -f -H --spec float16 "$tmp/plain.eqx" "$tmp/f16.eqx"
grep -Eq -- "-> [0-9.]+ (bytes|KiB) \(" "$tmp/err" || fail "-H result line: $(cat "$tmp/err")"
expect 0 "$leafio" convert -f -q --spec float16 "$tmp/plain.eqx" "$tmp/f16.eqx"
[ ! -s "$tmp/err" ] || fail "-q printed: $(cat "$tmp/err")"
expect 0 "$leafio" pack -f "$tmp/packed.eqx" "$tmp/npy/000000.npy" "$tmp/npy/000001.npy"
has "$tmp/err" "^leafio: 2 files -> $tmp/packed.eqx: [0-9]* -> [0-9]* bytes ("
expect 0 "$leafio" unpack -f "$tmp/plain.eqx" "$tmp/npy"
has "$tmp/err" "^leafio: $tmp/plain.eqx -> $tmp/npy: $in_size -> [0-9]* bytes ("

# ---- inspect: the summary, -H, the manifest --------------------------------------
expect 0 "$leafio" inspect "$tmp/plain.eqx"
has "$tmp/out" "^3 records, $in_size bytes stored, 66 elements$"
has "$tmp/out" "^dtypes: float32 (2), int64 (1)$"
has "$tmp/out" "^codecs: npy (3)$"
expect 0 "$leafio" inspect -H "$tmp/plain.eqx"
has "$tmp/out" "^3 records, [0-9.]* \(bytes\|KiB\) stored, 66 elements$"
expect 0 "$leafio" inspect "$src"
has "$tmp/out" "PATH$"
has "$tmp/out" "  npy  .*(64,) *\['weights'\]$"
has "$tmp/out" "^leaf paths and codecs from $src.json$"
[ ! -s "$tmp/err" ] || fail "inspect with a manifest warned: $(cat "$tmp/err")"
# A stale manifest (the file was replaced behind its back): a warning, and
# the records as they describe themselves.
cp "$tmp/f16.eqx" "$tmp/stale.eqx"; cp "$src.json" "$tmp/stale.eqx.json"
expect 0 "$leafio" inspect "$tmp/stale.eqx"
has "$tmp/err" "^leafio: warning: .*stale.eqx"
grep -q "PATH" "$tmp/out" && fail "a stale manifest's paths were shown"
has "$tmp/out" "^codecs: npy (3)$"

# ---- the README's spec-tree example: codecs by name --------------------------------
"$top/examples/spec-tree" "$tmp/spec-tree.eqx" >"$tmp/out"
has "$tmp/out" "weights as float16, biases as npy; loaded \[1\].weight: float32, first value -1$"
expect 0 "$leafio" inspect "$tmp/spec-tree.eqx"
has "$tmp/out" "^dtypes: float16 (2), float32 (2)$"

# ---- messages in leafio's words ---------------------------------------------------
expect 2 "$leafio" inspect --nope "$tmp/plain.eqx"
has "$tmp/err" "^leafio: unknown option --nope$"
expect 2 "$leafio" inspect --like "$tmp/nope.json" "$tmp/plain.eqx"
has "$tmp/err" "^leafio: --like: $tmp/nope.json: cannot open: .*expected a skeleton JSON file"
grep -q "Failed to" "$tmp/err" && fail "GLib's words: $(cat "$tmp/err")"
printf '{' >"$tmp/broken.json"
expect 2 "$leafio" convert --like "$tmp/broken.json" --spec npy "$tmp/plain.eqx" "$tmp/new.eqx"
has "$tmp/err" "^leafio: --like: $tmp/broken.json: .*expected a skeleton JSON file"
[ ! -e "$tmp/new.eqx" ] || fail "a failed convert wrote its output"

# ---- the progress bar under a pty ----------------------------------------------------
if command -v script >/dev/null 2>&1; then
  LEAFIO_PROGRESS_DELAY_MS=0 LC_ALL=C script -qec \
    "'$leafio' convert -f --spec npy '$tmp/plain.eqx' '$tmp/bar.eqx'" /dev/null >"$tmp/pty"
  has "$tmp/pty" "writing \[.*%.*/s.* left"
  # Rates are not guessed from the first ticks.
  has "$tmp/pty" "--/s"
  if LC_ALL=C tr -d '\r\033\n' <"$tmp/pty" | LC_ALL=C grep -q '[^ -~]'; then
    fail "non-ASCII bytes in the C locale's bar: $(od -c "$tmp/pty" | head)"
  fi
  if locale -a 2>/dev/null | grep -qi '^C\.utf-\?8$'; then
    LEAFIO_PROGRESS_DELAY_MS=0 LC_ALL=C.UTF-8 script -qec \
      "'$leafio' convert -f --spec npy '$tmp/plain.eqx' '$tmp/bar.eqx'" /dev/null >"$tmp/pty"
    grep -q "$(printf '\342\226\221')" "$tmp/pty" || fail "no block characters in UTF-8: $(cat "$tmp/pty")"
  fi
  # Binary output to a terminal is refused, as zstd refuses it.
  script -qec "'$leafio' convert --spec npy '$tmp/plain.eqx' -" /dev/null >"$tmp/pty" \
    && fail "convert wrote binary data to a terminal"
  has "$tmp/pty" "stdout is a terminal"
else
  echo "test-cli-behaviour: script(1) not found: the pty checks were not run"
fi

echo "PASS: test-cli-behaviour"
