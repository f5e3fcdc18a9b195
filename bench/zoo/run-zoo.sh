#!/usr/bin/env bash
# Compiles every model of a zoo (eng/zoo/make_zoo.py's output: <model>/model.pt2, cases.safetensors, fixture.json) with
# `modelc compile --backend torch --cases`, verifies the engine with `modelc verify`, and writes a Markdown table.
# Usage: bench/zoo/run-zoo.sh ZOO_DIR [OUT.md] [MODEL...]   (default OUT: artifacts/zoo/zoo.md; models: all)
# Raw results (one JSON object per model, with the full error text) go next to the table as results.jsonl.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
zoo=$(cd "${1:?usage: run-zoo.sh ZOO_DIR [OUT.md] [MODEL...]}" && pwd)
out=$(realpath -m "${2:-$repo/artifacts/zoo/zoo.md}")
shift $(( $# >= 2 ? 2 : 1 ))
cd "$repo"
dotnet build src/modelc -c Release -v q -nologo
python3 bench/zoo/run_zoo.py --modelc artifacts/bin/modelc/release/modelc.dll --zoo "$zoo" --out "$out" \
  --work "$(dirname "$out")/engines" "$@"
