#!/usr/bin/env bash
# Packs every package into artifacts/packages (the local feed that NuGet.config maps ModelBuild.* and modelc to), at
# the version of eng/Versions.props: ModelBuild.Sdk, ModelBuild.Runtime and the libraries it depends on (each with a
# .snupkg of its symbols), the modelc .NET tool, the dotnet new templates (ModelBuild.Templates), and any project
# added to the solution with IsPackable=true.
# Same-version packages already extracted in the NuGet cache are stale copies: they are removed, so the next
# restore takes these.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
configuration="${CONFIGURATION:-Release}"
version=$(sed -n 's|.*<ModelBuildVersion>\(.*\)</ModelBuildVersion>.*|\1|p' eng/Versions.props)
# Every project of the solution that sets IsPackable (eng/Packaging.targets), then the two packages that are no
# project of the solution: the MSBuild SDK and the templates.
dotnet pack BuildIntegration.sln -c "$configuration" -o artifacts/packages -warnaserror -nologo -v:q -clp:NoSummary
for project in sdk/ModelBuild.Sdk templates/ModelBuild.Templates; do
  dotnet pack "$project" -c "$configuration" -o artifacts/packages -warnaserror -nologo -v:q -clp:NoSummary
done
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
for package in artifacts/packages/*."$version".nupkg; do
  id=$(basename "$package" ".$version.nupkg" | tr '[:upper:]' '[:lower:]')
  rm -rf "${cache:?}/$id/$version"
done
echo "eng/pack.sh: ModelBuild $version packages in artifacts/packages"
