#!/usr/bin/env bash
# Compares the ABI of the built libraries with the committed baseline:
#   abi/check.sh            fails on any change that is not an addition
#   abi/check.sh --update   rewrites the baseline from this build, for a
#                           deliberate change (abi/README.md says when)
# Run after `make` in a tree configured in place (or set LF_BUILDDIR to the
# build directory), built with debug information (the default -g).  Needs
# abidw and abidiff (Debian: abigail-tools).
#
# Besides the comparison, every symbol the library exports must be
# declared in a public header: what no header declares is no API, and the
# reference manual cannot document it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${LF_BUILDDIR:-$top}" && pwd)
mode=check
case "${1:-}" in
  "") ;;
  --update) mode=update ;;
  *) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac
for tool in abidw abidiff nm readelf; do
  command -v "$tool" >/dev/null ||
    { echo "abi/check.sh: $tool not found (apt-get install abigail-tools binutils)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The unstable tier (include/leafio/unstable.h) carries no ABI promise:
# abidiff ignores its functions and types.  The list is read from the
# header, so it cannot fall behind.
unstable=$top/include/leafio/unstable.h
suppressions=$work/unstable.suppr
{
  sed -n 's/^LF_API .*[ *]\(lf_[a-z0-9_]*\) (.*/\1/p' "$unstable" | while read -r name; do
    printf '[suppress_function]\n  name = %s\n\n' "$name"
  done
  sed -n 's/^} \(Lf[A-Za-z0-9_]*\);$/\1/p' "$unstable" | while read -r name; do
    printf '[suppress_type]\n  name = %s\n\n' "$name"
  done
} > "$suppressions"

headers=(--headers-dir "$top/include/leafio")
[ "$build" = "$top" ] || headers+=(--headers-dir "$build/include/leafio")

declared=$work/declared
cat "$top"/include/leafio/*.h "$build"/include/leafio/version.h 2>/dev/null |
  grep -o '\blf_[a-z0-9_]* (' | sed 's/ ($//' | sort -u > "$declared"

status=0
compare() {
  local name=$1 library=$2
  local baseline=$top/abi/$name.abi dump=$work/$name.abi
  if [ ! -e "$library" ]; then
    echo "abi/check.sh: $library is not built; run make first" >&2
    return 1
  fi
  if [[ $(readelf -S "$library") != *.debug_info* ]]; then
    echo "abi/check.sh: $library has no debug information; build with -g" >&2
    return 1
  fi

  local undeclared
  undeclared=$(nm -D --defined-only "$library" | awk '{print $3}' | sort | comm -23 - "$declared")
  if [ -n "$undeclared" ]; then
    echo "abi/check.sh: $name exports symbols no public header declares:" >&2
    echo "$undeclared" | sed 's/^/  /' >&2
    return 1
  fi

  abidw --exported-interfaces-only "${headers[@]}" --drop-private-types \
        --no-corpus-path --no-comp-dir-path --short-locs --out-file "$dump" "$library"
  if [ $mode = update ]; then
    cp "$dump" "$baseline"
    echo "abi/check.sh: wrote $baseline"
    return 0
  fi
  if [ ! -e "$baseline" ]; then
    echo "abi/check.sh: no baseline $baseline; make one with abi/check.sh --update" >&2
    return 1
  fi
  # Added functions and variables are fine (--no-added-syms); anything else
  # abidiff reports (a removed or changed function, a changed type) fails.
  local rc=0
  abidiff --no-added-syms --suppressions "$suppressions" "$baseline" "$dump" \
          > "$work/$name.report" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    echo "abi/check.sh: the ABI of $name changed (abidiff exit $rc):" >&2
    cat "$work/$name.report" >&2
    echo "abi/check.sh: if the change is deliberate, see abi/README.md" >&2
    return 1
  fi
  echo "abi/check.sh: $name: no ABI change beyond additions"
}

compare libleafio "$build/core/.libs/libleafio.so" || status=1
# libleafio-mpi is built only when configure found MPI.
if [ -e "$build/mpi/Makefile" ]; then
  compare libleafio-mpi "$build/mpi/.libs/libleafio-mpi.so" || status=1
else
  echo "abi/check.sh: libleafio-mpi not configured (no MPI): not compared"
fi
exit $status
