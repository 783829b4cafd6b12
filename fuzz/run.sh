#!/usr/bin/env bash
# Builds the library, the plugins and the libFuzzer targets with clang,
# ASan and UBSan in a build directory of its own, generates the seed
# corpora, and runs each target for SECONDS (default 60).
#
#   fuzz/run.sh [SECONDS] [TARGET...]      e.g. fuzz/run.sh 5   (CI smoke run)
#
# LF_FUZZ_BUILD sets the build directory (default fuzz/build).  The corpus
# each run grows is kept in BUILD/corpus/TARGET, crashes in BUILD/crashes,
# logs in BUILD/logs; the summary (executions, coverage, crashes) is printed
# at the end and the script fails if any target crashed.
#
# The library is compiled straight from core/*.c and core/*/*.c (no configure), so this
# works beside an in-tree or out-of-tree autotools build.  Plugins are built
# as real .so files and loaded with dlopen from BUILD/plugins; the targets
# are linked with -rdynamic so plugins find the library's symbols in them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${LF_FUZZ_BUILD:-$top/fuzz/build}
cc=${LF_FUZZ_CC:-clang}
mkdir -p "$build"/obj "$build"/plugins "$build"/include/leafio "$build"/corpus \
         "$build"/crashes "$build"/logs
build=$(cd "$build" && pwd)

# ---- targets: name, source, extra flags ------------------------------------
# Load targets record their codec reference in BUILD/NAME.codec (for seeds).
# Dictionaries: fuzz/DICT.dict per target (npy tokens for the npy and load
# targets).  fuzz/regressions/NAME holds inputs that once crashed: they are
# replayed as seeds on every run.
targets=(
  "fuzz-npy-header|fuzz-npy-header.c||npy"
  "fuzz-codec-ref|fuzz-codec-ref.c||codec-ref"
  "fuzz-load-npy|fuzz-load.c|npy|npy"
  "fuzz-load-compressed|fuzz-load.c|compressed|npy"
  "fuzz-load-float16|fuzz-load.c|float16|npy"
  "fuzz-spec-json|fuzz-spec-json.c||spec"
  "fuzz-rules|fuzz-rules.c||spec"
  "fuzz-skeleton|fuzz-skeleton.c||spec"
  "fuzz-json-side|fuzz-json-side.c||json"
  "fuzz-codec-describe|fuzz-codec-describe.c||npy"
)
# The blosc plugin and its targets when c-blosc is installed.
have_blosc=no
pkg-config --exists blosc && have_blosc=yes
[ "$have_blosc" = yes ] && targets+=("fuzz-load-blosc|fuzz-load.c|blosc|npy")

# ---- flags -------------------------------------------------------------------
deps="glib-2.0 json-glib-1.0 libzstd libxxhash"
[ "$have_blosc" = yes ] && deps="$deps blosc"
pkg_cflags=$(pkg-config --cflags $deps)
pkg_libs="$(pkg-config --libs $deps) -ldl -lm"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
base="-std=gnu11 -O1 -g -fno-omit-frame-pointer -Wall -Wno-unused-parameter $san"
cov="-fsanitize=fuzzer-no-link"
includes="-I$build -I$top/include -I$build/include -I$top/core"
for d in "$top"/core/*/; do includes="$includes -I${d%/}"; done

# config.h and version.h as configure would write them (nothing in the core
# or the plugins needs more than the version).
ver() { sed -n "s/^m4_define(\[lf_$1\], \[\([0-9]*\)\])/\1/p" "$top/configure.ac"; }
major=$(ver major) minor=$(ver minor) micro=$(ver micro)
printf '#define PACKAGE "leafio"\n#define VERSION "%s"\n#define PACKAGE_VERSION "%s"\n' \
    "$major.$minor.$micro" "$major.$minor.$micro" > "$build/config.h.new"
cmp -s "$build/config.h.new" "$build/config.h" 2>/dev/null || mv "$build/config.h.new" "$build/config.h"
sed -e "s/@LF_MAJOR_VERSION@/$major/" -e "s/@LF_MINOR_VERSION@/$minor/" \
    -e "s/@LF_MICRO_VERSION@/$micro/" -e "s/@VERSION@/$major.$minor.$micro/" \
    "$top/include/leafio/version.h.in" > "$build/include/leafio/version.h.new"
cmp -s "$build/include/leafio/version.h.new" "$build/include/leafio/version.h" 2>/dev/null ||
  mv "$build/include/leafio/version.h.new" "$build/include/leafio/version.h"
rm -f "$build"/*.new "$build"/include/leafio/*.new

# Rebuilds `out` when it is older than any of the given inputs or headers.
stale() {
  local out=$1; shift
  [ -e "$out" ] || return 0
  local f
  for f in "$@" "$top"/include/leafio/*.h "$top"/core/*.h "$top"/core/*/*.h "$top"/fuzz/*.h; do
    [ "$f" -nt "$out" ] && return 0
  done
  return 1
}

echo "fuzz: building in $build"
pids=()
for src in "$top"/core/*.c "$top"/core/*/*.c; do
  obj="$build/obj/$(basename "${src%.c}").o"
  if stale "$obj" "$src"; then
    $cc $base $cov -fPIC -fvisibility=hidden -DLEAFIO_COMPILATION \
        -DLF_PLUGIN_DIR='""' -DG_LOG_DOMAIN='"leafio"' $includes $pkg_cflags \
        -c "$src" -o "$obj" &
    pids+=($!)
    # Two compilers at a time: the machine is shared.
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
objs=("$build"/obj/*.o)

# A plugin is plugins/NAME.c plus any plugins/NAME-*.c (its other parts).
for src in "$top"/plugins/*.c; do
  name=$(basename "${src%.c}")
  [ -e "$top/plugins/${name%-*}.c" ] && [ "${name%-*}" != "$name" ] && continue   # a part
  [ "$name" = blosc ] && [ "$have_blosc" != yes ] && continue
  parts=("$src")
  for part in "$top/plugins/$name"-*.c; do [ -e "$part" ] && parts+=("$part"); done
  so="$build/plugins/$name.so"
  if stale "$so" "${parts[@]}"; then
    # Undefined lf_* symbols resolve against the target (-rdynamic).
    $cc $base $cov -fPIC -shared -fvisibility=hidden $includes $pkg_cflags "${parts[@]}" \
        -o "$so" $pkg_libs
  fi
done

for t in "${targets[@]}"; do
  IFS='|' read -r name source codec dict <<<"$t"
  extra=()
  if [ -n "$codec" ]; then
    extra=(-DFUZZ_CODEC="\"$codec\"")
    printf '%s\n' "$codec" > "$build/$name.codec"
  fi
  if stale "$build/$name" "$top/fuzz/$source" "${objs[@]}"; then
    $cc $base -fsanitize=fuzzer -rdynamic "${extra[@]}" $includes $pkg_cflags \
        "$top/fuzz/$source" "${objs[@]}" -o "$build/$name" $pkg_libs
  fi
done
if stale "$build/seed-writer" "$top/fuzz/seed-writer.c" "${objs[@]}"; then
  # The objects carry fuzzer coverage hooks: link libFuzzer's runtime
  # without its main.
  $cc $base -fsanitize=fuzzer-no-link -rdynamic $includes $pkg_cflags \
      "$top/fuzz/seed-writer.c" "${objs[@]}" -o "$build/seed-writer" $pkg_libs
fi

"$top/fuzz/make-seeds.sh" "$build"

# ---- runs ----------------------------------------------------------------------
dict_of() {
  local t
  for t in "${targets[@]}"; do
    IFS='|' read -r name source codec dict <<<"$t"
    [ "$name" = "$1" ] && [ -n "$dict" ] && echo "-dict=$top/fuzz/$dict.dict"
  done
  return 0
}
selected=("$@")
if [ ${#selected[@]} -eq 0 ]; then
  for t in "${targets[@]}"; do selected+=("${t%%|*}"); done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
summary=()
for name in "${selected[@]}"; do
  mkdir -p "$build/corpus/$name"
  log="$build/logs/$name.log"
  echo "fuzz: $name for ${seconds}s"
  status=0
  # -malloc_limit_mb: no input may make the library allocate much more than
  # it holds (the largest input is a few kB; read chunks are 16 MB).
  seed_dirs=("$build/seeds/$name")
  [ -d "$top/fuzz/regressions/$name" ] && seed_dirs+=("$top/fuzz/regressions/$name")
  "$build/$name" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
      -malloc_limit_mb=64 -rss_limit_mb=1024 -artifact_prefix="$build/crashes/$name-" \
      $(dict_of "$name") "$build/corpus/$name" "${seed_dirs[@]}" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$build/corpus/$name" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "fuzz: $name FAILED (status $status); see $log"
    grep -m5 -E 'ERROR|SUMMARY|check failed|unexpected log|Test unit written' "$log" || true
  fi
  summary+=("$(printf '%-22s %10s execs  cov %6s  ft %6s  corpus %5s  %s' "$name" \
               "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" \
               "$([ "$status" -eq 0 ] && echo ok || echo CRASH)")")
done
echo "fuzz: summary (${seconds}s a target)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
