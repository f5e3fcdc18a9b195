#!/usr/bin/env bash
# Packs what bench/backends/on-device.sh needs on a machine without .NET (the GPU machine's CPUs, docs/benchmarks.md):
# modelc and ModelBuild.Backends.Benchmarks published self-contained for linux-x64 into one folder, without a libtorch
# of their own (ModelcBundledLibTorch=false: they run on PyTorch's torch/lib there), xz'd and cut into DEST/tools<k>/; and
# the zoo, one gzip -1 archive per model (xz would save a quarter of the bytes at many times the time), as one tar cut
# into pieces of PIECE_MIB (default 28) in DEST/p<k>/: one device call carries at most 64 MiB with the repository, so
# every piece travels in a call of its own to a machine kept warm and is put together there; the
# scripts that do it are in DEST/scripts. The zoo's pieces do not change with the code: PACK=tools repacks the tools alone.
# Usage: [PACK=all|tools] bench/backends/pack.sh ZOO_DIR [DEST]   (DEST default .gpu-bench, git-ignored through .git/info/exclude)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
zoo=$(cd "${1:?usage: bench/backends/pack.sh ZOO_DIR [DEST]}" && pwd)
dest=$(realpath -m "${2:-$repo/.gpu-bench}")
cd "$repo"
exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.gpu-bench/' "$exclude" || echo '/.gpu-bench/' >> "$exclude"

publish=artifacts/publish/bench-backends
stage=artifacts/publish/bench-backends-stage
rm -rf "$publish" "$stage" "$dest"/tools* "$dest/scripts" && mkdir -p "$stage" "$dest/scripts"
for project in src/modelc bench/ModelBuild.Backends.Benchmarks; do
  dotnet publish "$project" -c Release -r linux-x64 --self-contained -p:ModelcBundledLibTorch=false -p:DebugType=none \
    -o "$publish" -nologo -v q
done
# ONNX Runtime's package also brings its Windows library; linux-x64 needs none of it.
tar -C "$(dirname "$publish")" -cf - --exclude='onnxruntime*.dll' --transform "s|^$(basename "$publish")|tools|" "$(basename "$publish")" \
  | xz -6 -T0 | split -b "${PIECE_MIB:-28}M" -d -a 1 - "$stage/tools.tar.xz."
for piece in "$stage"/tools.tar.xz.*; do
  k=${piece##*.}
  mkdir -p "$dest/tools$k" && mv "$piece" "$dest/tools$k/"
done
cp bench/zoo/run_zoo.py bench/backends/on-device.sh "$dest/scripts/"
if [ "${PACK:-all}" = all ]; then
  rm -rf "$dest"/p[0-9]* && mkdir -p "$stage/zoo"
  for model in $(ls "$zoo"); do
    [ -f "$zoo/$model/model.pt2" ] && tar -C "$zoo" -cf - "$model" | gzip -1 > "$stage/zoo/$model.tar.gz"
  done
  cp "$zoo/index.json" "$stage/zoo/"
  pieces=$(mktemp -d)
  tar -C "$stage" -cf - zoo | split -b "${PIECE_MIB:-28}M" -d -a 1 - "$pieces/piece."
  for piece in "$pieces"/piece.*; do
    k=${piece##*.}
    mkdir -p "$dest/p$k" && mv "$piece" "$dest/p$k/"
  done
  rm -rf "$pieces"
fi
rm -rf "$stage"
du -sh "$dest"/*
