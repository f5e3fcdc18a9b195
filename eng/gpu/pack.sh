#!/usr/bin/env bash
# Prepares the CUDA run (eng/gpu/cuda-bench.sh) on a development machine: publishes modelc self-contained for
# linux-x64 without a libtorch of its own (ModelcBundledLibTorch=false: plain TorchSharp, whose libLibTorchSharp.so
# the repo's targets patch on publish too), and packs it with the public fixtures, PyTorch's anchors script and eng/gpu/cuda_bench.py into
# .gpu/ (git-ignored through .git/info/exclude), the folder the device call carries.
# Usage: eng/gpu/pack.sh [fixtures-root]   (default: tests/fixtures/public)
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures=${1:-tests/fixtures/public}
anchors=eng/gpu/anchors.py
publish=artifacts/publish/modelc-gpu
exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.gpu/' "$exclude" || echo '/.gpu/' >> "$exclude"

rm -rf "$publish" .gpu && mkdir -p .gpu
dotnet publish src/modelc -c Release -r linux-x64 --self-contained -p:ModelcBundledLibTorch=false -o "$publish" -nologo -v q
versions=$(readelf -V "$publish/libLibTorchSharp.so")
grep -q 'GLIBCXX_3.4.32  Flags: WEAK' <<<"$versions" || { echo "eng/gpu/pack.sh: $publish/libLibTorchSharp.so is not patched" >&2; exit 1; }
tar -C "$(dirname "$publish")" -cJf .gpu/modelc.tar.xz --transform "s|^$(basename "$publish")|modelc|" "$(basename "$publish")"

staging=$(mktemp -d)
for dir in "$fixtures"/*/; do
  name=$(basename "$dir")
  mkdir -p "$staging/$name"
  cp "$dir"/{model.pt2,cases.safetensors,fixture.json} "$staging/$name/"
done
tar -C "$staging" -cJf .gpu/fixtures.tar.xz .
rm -rf "$staging"
cp "$anchors" .gpu/anchors.py
cp eng/gpu/cuda_bench.py .gpu/
du -sh .gpu/*
