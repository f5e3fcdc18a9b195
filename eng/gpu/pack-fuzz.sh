#!/usr/bin/env bash
# Prepares the long fuzz run (eng/fuzz.sh) for the GPU machine, which has 16 cores, PyTorch's libtorch and no .NET
# SDK: publishes the harness self-contained without a libtorch of its own (FuzzBundledLibTorch=false) and packs it,
# into .gpu/ (git-ignored), the folder the device call carries. The fixtures travel with the repository. On the
# machine, eng/gpu/fuzz-on-device.sh runs it.
# Usage: eng/gpu/pack-fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
publish=artifacts/publish/fuzz-gpu
rm -rf "$publish" .gpu && mkdir -p .gpu
dotnet publish tests/ModelBuild.Fuzz -c Release -r linux-x64 --self-contained -p:FuzzBundledLibTorch=false -o "$publish" -nologo -v q
tar -C "$(dirname "$publish")" -cJf .gpu/fuzz.tar.xz --transform "s|^$(basename "$publish")|fuzz|" "$(basename "$publish")"
du -sh .gpu/*
