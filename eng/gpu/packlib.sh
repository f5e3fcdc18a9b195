# Packing helpers shared by eng/gpu/generate.sh and eng/gpu/pack_rest.sh (sourced, not run).
# What comes back from the device is at most 8 files of at most 16 MiB and 64 MiB in all per call. A "part" is one
# plain tar split into chunks of CHUNK bytes (OUT_DIR/part<N>.tar.<k>) holding xz archives: base.tar.xz (the
# fixtures, ops, ExportDB, logs; part 1 only) and one zoo/<model>.tar.xz per zoo model. Each zoo model is compressed
# on its own (xz -9: its pt2, ONNX and TorchScript files hold the same weights, which a 64 MiB window shares), so
# parts are filled by real compressed sizes.
WORK=${MBGEN_WORK:-/tmp/mbgen}
RESULTS=$WORK/out
ZOOXZ=$WORK/zooxz
CHUNK=$((15 * 1024 * 1024))
PART_LIMIT=$((58 * 1024 * 1024))
# ZOO_PACK_FILES="model.pt2 cases.safetensors fixture.json" packs only those files of each zoo model; empty packs all.
ZOO_PACK_FILES=${ZOO_PACK_FILES:-}

size_of() {  # total bytes of the given paths (0 for none)
  [ $# -gt 0 ] || { echo 0; return; }
  du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

# compress_zoo_model NAME: $ZOOXZ/NAME.tar.xz of the model's folder (or of its ZOO_PACK_FILES).
compress_zoo_model() {
  local name=$1 files=()
  if [ -z "$ZOO_PACK_FILES" ]; then
    files=("zoo/$name")
  else
    for f in $ZOO_PACK_FILES; do [ -e "$RESULTS/zoo/$name/$f" ] && files+=("zoo/$name/$f"); done
  fi
  tar -C "$RESULTS" -cf - "${files[@]}" | xz -9 -T1 > "$ZOOXZ/$name.tar.xz.tmp" && mv "$ZOOXZ/$name.tar.xz.tmp" "$ZOOXZ/$name.tar.xz"
}
export -f compress_zoo_model
export RESULTS ZOOXZ ZOO_PACK_FILES

# Compresses every finished zoo model not compressed yet, 14 at a time.
compress_zoo() {
  mkdir -p "$ZOOXZ"
  [ -d "$RESULTS/zoo" ] || return 0
  for d in "$RESULTS"/zoo/*/; do
    name=$(basename "$d")
    if [ -f "$d/fixture.json" ] && [ ! -f "$ZOOXZ/$name.tar.xz" ]; then echo "$name"; fi
  done | xargs -r -P 14 -I{} bash -c 'compress_zoo_model "$1"' _ {}
}

# Compressed zoo models not yet packed, smallest first, one "size name" per line.
remaining_zoo() {
  [ -d "$ZOOXZ" ] || return 0
  for f in "$ZOOXZ"/*.tar.xz; do
    [ -f "$f" ] || continue
    name=$(basename "$f" .tar.xz)
    if grep -qxF "$name" "$WORK/packed.txt" 2>/dev/null; then continue; fi
    echo "$(size_of "$f") $name"
  done | sort -n
}

# pack_part N OUT_DIR BASE_PATHS...: a part holding base.tar.xz of BASE_PATHS (relative to $WORK; none for later
# parts) and as many unpacked zoo models as fit in PART_LIMIT, as OUT_DIR/part<N>.tar.<k>; appends the zoo models
# it took to $WORK/packed.txt.
pack_part() {
  local n=$1 out=$2; shift 2
  local stage="$WORK/stage$n" used=0 models=() size name
  rm -rf "$stage" && mkdir -p "$stage/zoo"
  if [ $# -gt 0 ]; then
    tar -C "$WORK" -cf - "$@" | xz -9 -T0 > "$stage/base.tar.xz"
    used=$(size_of "$stage/base.tar.xz")
  fi
  compress_zoo
  while read -r size name; do
    [ -n "$name" ] || continue
    if [ $((used + size + 10240)) -le "$PART_LIMIT" ]; then
      models+=("$name")
      ln "$ZOOXZ/$name.tar.xz" "$stage/zoo/$name.tar.xz"
      used=$((used + size + 1024))
    elif [ "$size" -gt "$PART_LIMIT" ]; then
      echo "zoo model $name ($size bytes compressed) is larger than a part: not packed" >&2
      echo "$name" >> "$WORK/packed.txt"
    fi
  done < <(remaining_zoo)
  if [ ! -f "$stage/base.tar.xz" ] && [ ${#models[@]} -eq 0 ]; then
    echo "part $n: nothing to pack"
    return 0
  fi
  mkdir -p "$out"
  tar -C "$stage" -cf - . | split -b "$CHUNK" -d -a 1 - "$out/part$n.tar."
  for m in "${models[@]}"; do echo "$m"; done >> "$WORK/packed.txt"
  echo "part $n: $(ls "$out"/part"$n".tar.* | wc -l) files, $used bytes, ${#models[@]} zoo models;" \
       "$(remaining_zoo | wc -l) zoo models left"
  rm -rf "$stage"
}
