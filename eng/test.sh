#!/usr/bin/env bash
# Runs every test: installs prerequisites, builds the solution, packs the packages the end-to-end tests build
# against, runs all MSTest projects.
# The README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
eng/prereqs.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build BuildIntegration.sln -c Release -warnaserror
eng/pack.sh
dotnet test BuildIntegration.sln -c Release --no-build "$@"
