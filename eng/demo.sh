#!/usr/bin/env bash
# The main job: proves the toolchain end to end on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
eng/prereqs.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run --project samples/MlpReference -c Release -- "$(cd .. && pwd)/shared/fixtures/public/mlp"
