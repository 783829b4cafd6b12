#!/bin/sh
# examples/train-loop: a run killed with SIGKILL while it trains and saves
# resumes from its latest committed step and ends with the same weights as
# a run that was never interrupted; the directory keeps what the policies
# say (the last 3 steps and the best by loss).
set -eu
: "${LF_TOP_BUILDDIR:=..}"
loop=$LF_TOP_BUILDDIR/examples/train-loop
if [ ! -x "$loop" ]; then
  echo "test-train-loop: $loop is not built (run make before make check)" >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-train.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

"$loop" "$tmp/whole" 200 10 > "$tmp/whole.txt"
cat "$tmp/whole.txt"
tail -2 "$tmp/whole.txt" | head -1 > "$tmp/expected"
grep -q "^kept: 180 (loss [0-9.]*) 190 (loss [0-9.]*) 200 (loss [0-9.]*)$" "$tmp/whole.txt"

# Slowed down (5 ms a step), killed once two steps are committed.
"$loop" "$tmp/killed" 200 10 5 > "$tmp/first.txt" &
pid=$!
tries=0
until [ "$(grep -l '"committed"' "$tmp/killed"/step-*.meta.json 2>/dev/null | wc -l)" -ge 2 ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ]; then
    echo "FAIL: no two committed steps after 60 s" >&2
    exit 1
  fi
  sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
echo "--- killed after: $(tail -1 "$tmp/first.txt")"
"$loop" "$tmp/killed" 200 10 > "$tmp/second.txt"
cat "$tmp/second.txt"
grep -q "^resumed from step [1-9][0-9]*$" "$tmp/second.txt"
tail -2 "$tmp/second.txt" | head -1 > "$tmp/got"
cmp "$tmp/expected" "$tmp/got"
grep -q "^kept: 180 (loss [0-9.]*) 190 (loss [0-9.]*) 200 (loss [0-9.]*)$" "$tmp/second.txt"
# Nothing but the kept steps (three files each) and the lock.  A kill that
# lands between mkstemp and the rename that tags a temporary file leaves it
# untagged (.NAME.leafio-tmp.RRRRRR), and clean-up leaves alone what it
# cannot prove is its own: at most one such file may stay.
left=$(ls -A "$tmp/killed" | grep -Ev '^\..*\.leafio-tmp\.[A-Za-z0-9]{6}$' | wc -l)
untagged=$(ls -A "$tmp/killed" | grep -Ec '^\..*\.leafio-tmp\.[A-Za-z0-9]{6}$' || true)
[ "$left" -eq 10 ] && [ "$untagged" -le 1 ] || { ls -A "$tmp/killed" >&2; exit 1; }
echo "test-train-loop: ok"
