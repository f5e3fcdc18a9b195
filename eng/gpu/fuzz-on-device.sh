#!/usr/bin/env bash
# Runs on the GPU machine (from the repository's copy there, .gpu/ carried; see eng/gpu/pack-fuzz.sh): unpacks the
# harness, points TorchSharp at PyTorch's libtorch, and runs eng/fuzz.sh with every core.
# The results come back as one archive, $OUT/fuzz.tar.xz.
# Usage: eng/gpu/fuzz-on-device.sh [count]
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/tmp/modelbuild-fuzz
rm -rf "$work" && mkdir -p "$work"
tar -xJf .gpu/fuzz.tar.xz -C "$work"
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
# The harness was built elsewhere: it reads the fixtures of this copy of the repository.
export MODELBUILD_REPO_ROOT=$PWD
# One libtorch thread per harness: the jobs already take every core. (After nproc, which OMP_NUM_THREADS bounds.)
jobs=$(nproc)
export OMP_NUM_THREADS=1
# A device call may take 10 minutes: stop a little before, so that what finished still comes back.
FUZZ_HARNESS="$work/fuzz/ModelBuild.Fuzz" JOBS=$jobs SHARDS=${SHARDS:-8} timeout "${FUZZ_SECONDS:-550}" eng/fuzz.sh "${1:-100000}" "$work/out" || true
tar -C "$work" -cJf "$OUT/fuzz.tar.xz" out
