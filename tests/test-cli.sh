#!/bin/sh
# Runs the `leafio` command-line tool: a smoke test of the binary here, then
# the numpy interop tests in test_cli.py with the Python configure found.
set -eu

top=${LF_TOP_BUILDDIR:-..}
srcdir=${LF_TEST_SRCDIR:-.}
leafio="$top/tools/leafio"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-cli-sh-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail () { echo "FAIL: $*" >&2; exit 1; }

# Every subcommand answers --help with exit 0.
for cmd in codecs inspect skeleton unpack pack convert diff; do
  "$leafio" "$cmd" --help >"$tmp/help" 2>&1 || fail "leafio $cmd --help"
  grep -q "leafio $cmd" "$tmp/help" || fail "leafio $cmd --help lacks its usage line"
done

# Usage errors exit 2.
status=0; "$leafio" >/dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "leafio without a command exited $status"
status=0; "$leafio" inspect "$tmp/missing.eqx" 2>"$tmp/err" || status=$?
[ "$status" -eq 2 ] || fail "inspect of a missing file exited $status"
grep -q "^leafio: .*missing.eqx: cannot open" "$tmp/err" || fail "message: $(cat "$tmp/err")"

# The npy codec is registered from the build tree.
"$leafio" codecs >"$tmp/codecs" || fail "leafio codecs"
grep -q "^npy " "$tmp/codecs" || fail "npy missing from: $(cat "$tmp/codecs")"

# Garbage never crashes a subcommand: exit 2 with a message naming record 0.
printf 'not a record' >"$tmp/garbage.eqx"
for cmd in inspect skeleton; do
  status=0; "$leafio" "$cmd" "$tmp/garbage.eqx" >/dev/null 2>"$tmp/err" || status=$?
  [ "$status" -eq 2 ] || fail "$cmd of garbage exited $status"
  grep -q "garbage.eqx: record 0 (offset 0)" "$tmp/err" || fail "message: $(cat "$tmp/err")"
done

exec "$LF_PYTHON" "$srcdir/test_cli.py"
