#!/usr/bin/env bash
# Packs every package into artifacts/packages (the local feed that NuGet.config maps ModelBuild.* and modelc to), at
# the version of eng/Versions.props: ModelBuild.Sdk, ModelBuild.Runtime and the libraries it depends on (each with a
# .snupkg of its symbols), the modelc .NET tool and the dotnet new templates (ModelBuild.Templates).
# Same-version packages already extracted in the NuGet cache are stale copies: they are removed, so the next
# restore takes these.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
configuration="${CONFIGURATION:-Release}"
version=$(sed -n 's|.*<ModelBuildVersion>\(.*\)</ModelBuildVersion>.*|\1|p' eng/Versions.props)
packages=(src/ModelBuild.Diagnostics src/ModelBuild.Engine src/ModelBuild.Runtime sdk/ModelBuild.Sdk src/modelc templates/ModelBuild.Templates)
for project in "${packages[@]}"; do
  dotnet pack "$project" -c "$configuration" -o artifacts/packages -warnaserror -nologo -v:q -clp:NoSummary
done
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
for project in "${packages[@]}"; do
  id=$(basename "$project" | tr '[:upper:]' '[:lower:]')
  rm -rf "${cache:?}/$id/$version"
done
echo "eng/pack.sh: ModelBuild $version packages in artifacts/packages"
