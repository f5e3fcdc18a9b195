#!/usr/bin/env bash
# Benchmarks of the MSBuild integration (docs/benchmarks.md, "MSBuild integration"):
#   1. full compile time per fixture: a project with the 8 fixture models, cache off, one modelc at a time;
#   2. a no-op incremental build of that project (wall time, median of 5);
#   3. the overhead of the ModelBuild targets in that no-op build (-clp:PerformanceSummary, median of 5).
# Usage: bench/msbuild-integration.sh   (packs first; prints markdown rows)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
fixtures="$repo/tests/fixtures/public"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
"$repo/eng/pack.sh" >/dev/null
version=$(sed -n 's|.*<ModelBuildVersion>\(.*\)</ModelBuildVersion>.*|\1|p' "$repo/eng/Versions.props")

work=$(mktemp -d /tmp/mb-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
export NUGET_PACKAGES="$repo/artifacts/it-packages"
rm -rf "$NUGET_PACKAGES"/modelbuild.*
cat > "$work/NuGet.config" <<XML
<configuration><packageSources><clear/>
<add key="local" value="$repo/artifacts/packages"/><add key="nuget.org" value="https://api.nuget.org/v3/index.json"/></packageSources>
<packageSourceMapping><packageSource key="local"><package pattern="ModelBuild.*"/></packageSource><packageSource key="nuget.org"><package pattern="*"/></packageSource></packageSourceMapping>
</configuration>
XML
echo "{\"msbuild-sdks\":{\"ModelBuild.Sdk\":\"$version\"}}" > "$work/global.json"
mkdir -p "$work/Bench/models"
items=""
for dir in "$fixtures"/*/; do
  model=$(basename "$dir")
  cp "$dir/model.pt2" "$work/Bench/models/$model.pt2"
  items="$items    <ModelCompile Include=\"models/$model.pt2\" />
"
done
cat > "$work/Bench/Bench.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <Sdk Name="ModelBuild.Sdk" />
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework><OutputType>Exe</OutputType>
    <ModelBuildCache>false</ModelBuildCache>
    <ModelBuildReferenceTorchSharpCpu>false</ModelBuildReferenceTorchSharpCpu>
    <ModelCompileMaxParallelism>1</ModelCompileMaxParallelism>
  </PropertyGroup>
  <ItemGroup>
$items  </ItemGroup>
</Project>
XML
echo 'return 0;' > "$work/Bench/Program.cs"
cd "$work/Bench"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

start=$(date +%s.%N)
dotnet build -nologo -v:n > "$work/full.log" 2>&1 || { grep -E "error MB" "$work/full.log" | sort -u >&2; echo "the full build failed" >&2; exit 1; }
end=$(date +%s.%N)
echo "### Full compile (cache off, one modelc at a time)"
echo
echo "| fixture | compile time (modelc start to engine and accessor) |"
echo "| --- | --- |"
grep -E "ModelBuild: models/.* compiled in" "$work/full.log" | sed -E 's|.*models/([a-z_0-9]+)\.pt2 -> [A-Za-z0-9]+: compiled in ([0-9.]+ s).*|\| \1 \| \2 \||' | sort
echo
awk -v s="$start" -v e="$end" 'BEGIN { printf "Whole first build (restore, 8 models one at a time, C# compile): %.1f s\n\n", e - s }'

for i in 1 2 3 4 5; do
  s=$(date +%s%N)
  dotnet build --no-restore -nologo -v:q -clp:PerformanceSummary > "$work/noop$i.log" 2>&1
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 )) >> "$work/noop-wall.txt"
  awk '/Target Performance Summary/ {t=1} /Task Performance Summary/ {t=0} t && /ms  (ModelBuild|_ModelCompile|ModelCompile_)/ {sum += $1} END {print sum+0}' "$work/noop$i.log" >> "$work/noop-targets.txt"
  awk '/Target Performance Summary/ {t=1} /Task Performance Summary/ {t=0} t && / ms / {sum += $1} END {print sum+0}' "$work/noop$i.log" >> "$work/noop-all-targets.txt"
  grep -q "ModelBuild: models/.*compiling" "$work/noop$i.log" && { echo "no-op build $i started modelc" >&2; exit 1; }
done
echo "### No-op incremental build of the 8-model project (median of 5)"
echo
echo "| measure | ms |"
echo "| --- | --- |"
echo "| wall time of \`dotnet build --no-restore\` | $(median < "$work/noop-wall.txt") |"
echo "| all targets (PerformanceSummary, summed) | $(median < "$work/noop-all-targets.txt") |"
echo "| ModelBuild targets (ModelBuild*, _ModelCompile*, ModelCompile_*) | $(median < "$work/noop-targets.txt") |"
echo
echo "ModelBuild targets of the last no-op build:"
echo
echo '```'
awk '/Target Performance Summary/ {t=1} /Task Performance Summary/ {t=0} t && /ms  (ModelBuild|_ModelCompile|ModelCompile_)/' "$work/noop5.log" | sed 's/^ *//'
echo '```'
