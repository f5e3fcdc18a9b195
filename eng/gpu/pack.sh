#!/usr/bin/env bash
# Prepares a CUDA run on a development machine (eng/gpu/cudagraph_bench.py): publishes modelc self-contained for
# linux-x64 without a libtorch of its own (ModelcBundledLibTorch=false: plain TorchSharp, whose libLibTorchSharp.so the
# repo's targets patch on publish too; the GPU machine brings PyTorch's CUDA libtorch), and packs it with the models
# to run into .gpu/ (git-ignored through .git/info/exclude), the folder the device call carries.
# Usage: eng/gpu/pack.sh ZOO_DIR [ZOO_MODEL...]   (ZOO_MODELs from ZOO_DIR, e.g. the zoo that eng/gpu/generate.sh
#        made; the public fixtures travel with the repository). What travels to the device is at most 64 MiB with the
#        repository, so modelc is trimmed (ModelcTrimmed) and everything is xz -9.
set -euo pipefail
cd "$(dirname "$0")/../.."
zoo=${1:?usage: eng/gpu/pack.sh ZOO_DIR [ZOO_MODEL...]}
shift
publish=artifacts/publish/modelc-gpu
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")" && touch "$exclude"
grep -qx '/.gpu/' "$exclude" || echo '/.gpu/' >> "$exclude"

rm -rf "$publish" .gpu && mkdir -p .gpu
dotnet publish src/modelc -c Release -r linux-x64 --self-contained -p:ModelcBundledLibTorch=false -p:ModelcTrimmed=true -p:DebugType=none \
  -o "$publish" -nologo -v q
versions=$(readelf -V "$publish/libLibTorchSharp.so")
grep -q 'GLIBCXX_3.4.32  Flags: WEAK' <<<"$versions" || { echo "eng/gpu/pack.sh: $publish/libLibTorchSharp.so is not patched" >&2; exit 1; }
tar -C "$(dirname "$publish")" -cf - --transform "s|^$(basename "$publish")|modelc|" "$(basename "$publish")" | xz -9 > .gpu/modelc.tar.xz

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/models"
for name in "$@"; do
  mkdir -p "$staging/models/$name"
  cp "$zoo/$name"/{model.pt2,cases.safetensors,fixture.json} "$staging/models/$name/"
done
tar -C "$staging" -cf - models | xz -9 > .gpu/models.tar.xz
du -sh .gpu/*
