#!/usr/bin/env bash
# The main job: packs ModelBuild.Sdk and ModelBuild.Runtime, then builds the sample app the way users build theirs:
# dotnet build compiles its ModelCompile item (models/small_cnn.pt2) with modelc, embeds the engine and generates
# the typed accessor; the app runs the engine on PyTorch's reference cases and prints its error.
set -euo pipefail
cd "$(dirname "$0")/.."
eng/prereqs.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
eng/pack.sh
dotnet build samples/Classifier -c Release -nologo -v:m
dotnet samples/Classifier/bin/Release/net10.0/Classifier.dll
