#!/usr/bin/env bash
# Runs every test: installs prerequisites, builds the solution, packs the packages the end-to-end tests build
# against, runs all MSTest projects, and ends with one line "N passed, M failed" over all test assemblies.
# The README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
eng/prereqs.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build BuildIntegration.sln -c Release -warnaserror
eng/pack.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test BuildIntegration.sln -c Release --no-build "$@" 2>&1 | tee "$log" || status=$?
# Each assembly prints "Passed!  - Failed:     0, Passed:     7, Skipped: ..." (or "Failed!  - ...").
awk -F'[:,]' '/^(Passed|Failed)! +- Failed:/ { f += $2; p += $4 } END { printf "%d passed, %d failed\n", p, f }' "$log"
exit $status
