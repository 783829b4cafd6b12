#!/bin/sh
# The checkpoint manager over MPI (lf_mpi_checkpoint_manager_open) under
# mpirun with 2 and 3 ranks: steps byte-identical to a serial manager's,
# retention applied once by rank 0, the same steps and latest step on every
# rank, LF_ERROR_BUSY for a second manager, failures on rank 1 failing the
# save everywhere, and asynchronous saves with and without
# MPI_THREAD_MULTIPLE.
set -eu

if [ "${LF_MPI_CONFIGURED:-no}" != yes ]; then
  echo "test-mpi-checkpoint: skipped: configure found no MPI or no mpirun"
  exit 77
fi
: "${LF_TEST_BUILDDIR:=.}"
mpirun=${LF_MPIRUN:-mpirun}
driver=$LF_TEST_BUILDDIR/mpi-checkpoint-driver
if [ ! -x "$driver" ]; then
  echo "test-mpi-checkpoint: $driver is not built (run make check, which builds it)" >&2
  exit 1
fi

# As in test-mpi.sh: root in CI containers, shared memory without ptrace
# rights, more ranks than cores, and no leak checks for OpenMPI's own
# allocations in the sanitizer build.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-mpi-checkpoint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for n in 2 3; do
  for mode in manager fail async threads; do
    mkdir -p "$tmp/$mode-$n"
    echo "== mpirun -np $n mpi-checkpoint-driver $mode"
    "$mpirun" --oversubscribe --allow-run-as-root -np "$n" "$driver" "$mode" "$tmp/$mode-$n"
  done
done
echo "test-mpi-checkpoint: ok"
