#!/usr/bin/env bash
# Measures ModelBuild engines against TorchSharp's jit.load and ONNX Runtime on every public fixture, in one run,
# and writes the table into docs/benchmarks.md (between the runtime markers) and the chart next to it.
# Usage: bench/run-runtime-benchmarks.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
fixtures=tests/fixtures/public
engines=artifacts/bench/engines
mkdir -p "$engines"
dotnet build src/modelc -c Release -v q -nologo
dotnet build bench/ModelBuild.Runtime.Benchmarks -c Release -v q -nologo
for dir in "$fixtures"/*/; do
  name=$(basename "$dir")
  dotnet artifacts/bin/modelc/release/modelc.dll compile "$dir/model.pt2" -o "$engines/$name.engine" >/dev/null
done
table=$(mktemp)
dotnet artifacts/bin/ModelBuild.Runtime.Benchmarks/release/ModelBuild.Runtime.Benchmarks.dll \
  "$fixtures" "$engines" "$table" docs/benchmarks-runtime.png "$threads"
{
  echo "Machine: $(nproc)-core $(. /etc/os-release && echo "$PRETTY_NAME"), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%Y-%m-%d)."
  echo "Command: \`bench/run-runtime-benchmarks.sh $threads\`"
  echo
  cat "$table"
  echo
  echo "![latency chart](benchmarks-runtime.png)"
} > "$table.section"
python3 - "$table.section" <<'PY'
import re, sys
section = open(sys.argv[1]).read()
doc = open("docs/benchmarks.md").read()
doc = re.sub(r"(<!-- runtime:begin -->\n).*?(<!-- runtime:end -->)", lambda m: m.group(1) + section + m.group(2), doc, flags=re.S)
open("docs/benchmarks.md", "w").write(doc)
PY
rm -f "$table" "$table.section"
