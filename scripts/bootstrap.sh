#!/usr/bin/env bash
# Sets up a fresh Debian machine and builds leafio from scratch, then:
#   scripts/bootstrap.sh example   runs the main example (examples/mlp)
#   scripts/bootstrap.sh check     runs every test (make check)
# Missing build dependencies are installed with apt-get when run as root;
# otherwise the exact apt-get line is printed and the script stops.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-example}
case "$what" in example|check|build) ;; *)
  echo "usage: $0 example|check|build" >&2; exit 2 ;;
esac

packages=(build-essential autoconf automake libtool pkg-config
          libglib2.0-dev libjson-glib-dev libzstd-dev libxxhash-dev check
          python3 python3-numpy python3-zstandard zstd valgrind clang
          libopenmpi-dev openmpi-bin
          libblosc-dev python3-blosc bash-completion zsh python3-matplotlib)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

jobs=$(nproc 2>/dev/null || echo 2)
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
# Debian's numpy belongs to /usr/bin/python3; configure checks it can import numpy.
[ -f Makefile ] || ./configure PYTHON=/usr/bin/python3 --quiet
make -j"$jobs" >/dev/null

case "$what" in
  example) LEAFIO_PLUGIN_PATH="$PWD/plugins/.libs" LEAFIO_PLUGIN_SYSTEM_DIR= ./examples/mlp ;;
  check) make -j"$jobs" check ;;
  build) ;;
esac
