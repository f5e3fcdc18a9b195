#!/usr/bin/env bash
# Rewrites docs/ops-coverage.md from the OpInfo programs of tests/fixtures/ops: runs every program through the
# compiler's reference path (OpInfoProgramTests) with MODELBUILD_WRITE_OPS_COVERAGE=1, which writes the table instead
# of comparing it. Usage: eng/ops-coverage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/ModelBuild.Runtime.Torch.Tests -c Release -v q -nologo
MODELBUILD_WRITE_OPS_COVERAGE=1 dotnet test tests/ModelBuild.Runtime.Torch.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~OpInfoProgramTests.CoverageDoc_MatchesTheResults"
echo "wrote docs/ops-coverage.md"
