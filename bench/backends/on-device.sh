#!/usr/bin/env bash
# Runs bench/backends on the GPU machine's CPUs from what bench/backends/pack.sh packed (no .NET there: the published
# tools run on PyTorch's own libtorch). The pack is larger than one call carries, so its pieces travel over several calls
# to a machine kept warm (its /tmp survives between them):
#   bash .gpu-bench/scripts/on-device.sh keep .gpu-bench/p<k>    (one call per piece, carrying scripts and p<k>)
#   bash .gpu-bench/scripts/on-device.sh keep .gpu-bench/tools<k> (the tools' pieces, the same way)
#   bash .gpu-bench/scripts/on-device.sh run DEADLINE_S          (puts the pieces together, then results into $OUT)
#   bash .gpu-bench/scripts/on-device.sh bench-again DEADLINE_S  (times the run's auto engines once more: another pass,
#                                                                 its results.jsonl into $OUT; run_zoo.py --report merges)
# run: every public fixture and zoo model compiled with --backend auto (which builds, validates and times the torch and
# onnxruntime candidates) and --backend onnxruntime, each engine verified, 12 at a time
# on processors 4-15 (one each); each auto engine timed by ModelBuild.Backends.Benchmarks, one model at a time, pinned
# to processors 0-3.
set -euo pipefail
work=/tmp/mbb
here=$(cd "$(dirname "$0")" && pwd)
# The published tools run on PyTorch's libtorch (and its CUDA libraries, which it links) and on no GPU.
torch_env() {
  local site=/opt/torch/.venv/lib/python3.12/site-packages
  export LD_LIBRARY_PATH=$site/torch/lib:$site/nvidia/cu13/lib:$site/nvidia/cudnn/lib:$site/nvidia/cusparselt/lib:$site/nvidia/nccl/lib:$site/nvidia/nvshmem/lib
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 CUDA_VISIBLE_DEVICES=
}
case ${1:?usage: on-device.sh keep PIECE_DIR | run DEADLINE_S | bench-again DEADLINE_S} in
  keep)
    mkdir -p "$work/pieces" && cp "$2"/* "$work/pieces/" && ls -l "$work/pieces"
    ;;
  run)
    mkdir -p "$work/zoo" && cat "$work"/pieces/piece.* | tar -xf - -C "$work"
    cat "$work"/pieces/tools.tar.xz.* | tar -xJf - -C "$work"
    for archive in "$work"/zoo/*.tar.*; do tar -xf "$archive" -C "$work/zoo" && rm "$archive"; done
    echo "zoo models: $(ls "$work/zoo" | grep -vc index.json)"
    torch_env
    { nproc; lscpu | grep -E 'Model name|Socket|Thread|Core|NUMA node\(s\)'; uname -r; grep PRETTY /etc/os-release; date -u; } > "$OUT/machine.txt"
    python3 "$here/run_zoo.py" --modelc "$work/tools/modelc" --harness "$work/tools/ModelBuild.Backends.Benchmarks" \
      --models-dir tests/fixtures/public --models-dir "$work/zoo" --out "$OUT/backends.md" --work "$work/engines" \
      --backends auto,onnxruntime --compile-cpus 4-15 --bench-cpus 0-3 --bench-seconds 2 --timeout 300 --deadline-s "${2:-520}"
    cp "$OUT/results.jsonl" "$work/results.jsonl"
    ;;
  bench-again)
    torch_env
    python3 "$here/run_zoo.py" --harness "$work/tools/ModelBuild.Backends.Benchmarks" --bench-again "$work/results.jsonl" \
      --models-dir tests/fixtures/public --models-dir "$work/zoo" --out "$OUT/backends.md" --work "$work/engines" \
      --backends auto,onnxruntime --bench-cpus 0-3 --bench-seconds 2 --deadline-s "${2:-520}"
    ;;
esac
