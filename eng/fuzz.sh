#!/usr/bin/env bash
# The long fuzz run of docs/reliability.md: every target of tests/ModelBuild.Fuzz, COUNT inputs each (default
# 100,000), split into SHARDS runs per target (default 1) of which JOBS run at a time (default 2), seed SEED
# (default 1). One JSON report and log per run, every failing input (kept/) and summary.md (eng/fuzz_summary.py)
# land in OUT (default artifacts/fuzz). FUZZ_HARNESS names a published harness to run instead of building one
# (the GPU machine has no .NET SDK: eng/gpu/pack-fuzz.sh). CI runs a bounded sample instead (tests/ModelBuild.Fuzz.Tests).
# Usage: eng/fuzz.sh [count] [out]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
out=$(mkdir -p "${2:-artifacts/fuzz}" && cd "${2:-artifacts/fuzz}" && pwd)
harness=${FUZZ_HARNESS:-}
if [ -z "$harness" ]; then
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  dotnet build tests/ModelBuild.Fuzz -c Release -nologo -v q
  # The harness runs from a copy, so that a build during the run cannot overwrite the files it has loaded.
  bin=$(mktemp -d)
  trap 'rm -rf "$bin"' EXIT
  cp -r artifacts/bin/ModelBuild.Fuzz/release/. "$bin"
  harness="dotnet $bin/ModelBuild.Fuzz.dll"
fi
shards=${SHARDS:-1}
per=$(( (count + shards - 1) / shards ))
# Longest first, so that the jobs end together.
for target in pt2 pt2-legacy safetensors-cases torchscript manifest plan onnx engine safetensors-inputs pickle; do
  for ((s = 0; s < shards; s++)); do echo "$target $((s * per))"; done
done | xargs -P "${JOBS:-2}" -L1 sh -c \
  "$harness \$0 --seed ${SEED:-1} --start \$1 --count $per --json '$out/'\$0.\$1.json --keep '$out/kept' > '$out/'\$0.\$1.log 2>&1; echo \"\$0 from \$1: exit \$?\""
python3 eng/fuzz_summary.py "$out" | tee "$out/summary.md"
