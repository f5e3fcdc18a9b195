#!/usr/bin/env bash
# Packs ModelBuild.Sdk, ModelBuild.Runtime and what the runtime package depends on into artifacts/packages
# (the local feed that NuGet.config maps ModelBuild.* to), at the version of eng/Versions.props.
# Same-version packages already extracted in the NuGet cache are stale copies: they are removed, so the next
# restore takes these.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
configuration="${CONFIGURATION:-Release}"
version=$(sed -n 's|.*<ModelBuildVersion>\(.*\)</ModelBuildVersion>.*|\1|p' eng/Versions.props)
packages=(src/ModelBuild.Diagnostics src/ModelBuild.Engine src/ModelBuild.Runtime src/ModelBuild.Runtime.Torch src/ModelBuild.Runtime.OnnxRuntime sdk/ModelBuild.Sdk)
for project in "${packages[@]}"; do
  dotnet pack "$project" -c "$configuration" -o artifacts/packages -warnaserror -nologo -v:q -clp:NoSummary
done
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
for project in "${packages[@]}"; do
  id=$(basename "$project" | tr '[:upper:]' '[:lower:]')
  rm -rf "${cache:?}/$id/$version"
done
echo "eng/pack.sh: ModelBuild $version packages in artifacts/packages"
