#!/usr/bin/env bash
# Reassembles the parts that eng/gpu/generate.sh and eng/gpu/pack_rest.sh wrote (part<N>.tar.<k>, see packlib.sh),
# from one or more folders the device calls returned, into DEST (default ./gpu-out):
# DEST/out/{public,extra,hop,ops,exportdb,zoo} and DEST/logs.
#   eng/gpu/unpack.sh FILES_DIR [FILES_DIR...] [--dest DEST]
set -euo pipefail
dest=gpu-out
dirs=()
while [ $# -gt 0 ]; do
  case $1 in
    --dest) dest=$2; shift 2 ;;
    *) dirs+=("$1"); shift ;;
  esac
done
[ ${#dirs[@]} -gt 0 ] || { echo "usage: $0 FILES_DIR [FILES_DIR...] [--dest DEST]" >&2; exit 2; }
mkdir -p "$dest/out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
found=0
for first in $(find "${dirs[@]}" -name 'part*.tar.0' | sort -V); do
  prefix=${first%.0}
  echo "unpacking $(basename "$prefix") ($(ls "$prefix".* | wc -l) chunks)"
  rm -rf "${stage:?}"/*
  ls "$prefix".* | sort -V | xargs cat | tar -xf - -C "$stage"
  [ -f "$stage/base.tar.xz" ] && tar -xJf "$stage/base.tar.xz" -C "$dest"
  for z in "$stage"/zoo/*.tar.xz; do
    [ -f "$z" ] && tar -xJf "$z" -C "$dest/out"
  done
  found=$((found + 1))
done
[ "$found" -gt 0 ] || { echo "no part*.tar.0 under ${dirs[*]}" >&2; exit 1; }
echo "$found parts in $dest; zoo models: $(find "$dest/out/zoo" -name fixture.json 2>/dev/null | wc -l)"
