#!/usr/bin/env bash
# The long fuzz run of docs/reliability.md: every target of tests/ModelBuild.Fuzz, COUNT inputs each (default
# 100,000), JOBS targets at a time (default 2), seed SEED (default 1). One JSON report and log per target, and every
# failing input, land in OUT (default artifacts/fuzz). CI runs a bounded sample instead (tests/ModelBuild.Fuzz.Tests).
# Usage: eng/fuzz.sh [count] [out]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
out=$(mkdir -p "${2:-artifacts/fuzz}" && cd "${2:-artifacts/fuzz}" && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build tests/ModelBuild.Fuzz -c Release -nologo -v q
# The harness runs from a copy, so that a build during the run cannot overwrite the files it has loaded.
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cp -r artifacts/bin/ModelBuild.Fuzz/release/. "$bin"
# Longest first, so that the jobs end together.
targets=(pt2 pt2-legacy torchscript safetensors-cases onnx manifest plan engine safetensors-inputs pickle)
printf '%s\n' "${targets[@]}" | xargs -P "${JOBS:-2}" -I{} \
  sh -c "dotnet '$bin/ModelBuild.Fuzz.dll' {} --seed ${SEED:-1} --count $count --json '$out/{}.json' --keep '$out/kept' > '$out/{}.log' 2>&1; echo \"{}: exit \$?\""
grep -h ' inputs in ' "$out"/*.log
