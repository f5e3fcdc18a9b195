# Packing helpers shared by eng/gpu/generate.sh and eng/gpu/pack_rest.sh (sourced, not run).
# A "part" is one xz tar split into chunks of CHUNK bytes: OUT_DIR/part<N>.tar.xz.<k>. What comes back from the
# device is at most 8 files of at most 16 MiB and 60 MiB in all per call, so a part stays under PART_LIMIT.
WORK=${MBGEN_WORK:-/tmp/mbgen}
RESULTS=$WORK/out
CHUNK=$((15 * 1024 * 1024))
PART_LIMIT=$((58 * 1024 * 1024))
export XZ_OPT=${XZ_OPT:--6 -T0}
# ZOO_PACK_FILES="model.pt2 cases.safetensors fixture.json" packs only those files of each zoo model (a third of the
# size: no model.onnx, no model.ts.pt); empty packs whole folders.
ZOO_PACK_FILES=${ZOO_PACK_FILES:-}

size_of() {  # total bytes of the given paths (0 for none)
  [ $# -gt 0 ] || { echo 0; return; }
  du -sb "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'
}

# The paths (relative to $WORK) to pack for zoo model $1.
zoo_paths() {
  if [ -z "$ZOO_PACK_FILES" ]; then
    echo "out/zoo/$1"
  else
    for f in $ZOO_PACK_FILES; do
      [ -e "$RESULTS/zoo/$1/$f" ] && echo "out/zoo/$1/$f"
    done
  fi
}

# Zoo models not yet packed, smallest first, one "size name" per line.
remaining_zoo() {
  [ -d "$RESULTS/zoo" ] || return 0
  for d in "$RESULTS"/zoo/*/; do
    [ -f "$d/fixture.json" ] || continue
    name=$(basename "$d")
    grep -qxF "$name" "$WORK/packed.txt" 2>/dev/null && continue
    # shellcheck disable=SC2046 - one path per word
    echo "$(cd "$WORK" && size_of $(zoo_paths "$name")) $name"
  done | sort -n
}

# pack_part N OUT_DIR BASE_PATHS...: tars BASE_PATHS (relative to $WORK) plus as many unpacked zoo models as fit in
# PART_LIMIT into OUT_DIR/part<N>.tar.xz.<k>; appends the zoo models it took to $WORK/packed.txt.
pack_part() {
  local n=$1 out=$2; shift 2
  local base=("$@") used models=() size name tarball="$WORK/part$n.tar.xz"
  used=$(cd "$WORK" && size_of "${base[@]}")
  while read -r size name; do
    [ -n "$name" ] || continue
    if [ $((used + size)) -le "$PART_LIMIT" ]; then
      models+=("$name")
      used=$((used + size))
    elif [ "$size" -gt "$PART_LIMIT" ]; then
      echo "zoo model $name ($size bytes) is larger than a part: not packed" >&2
      echo "$name" >> "$WORK/packed.txt"
    fi
  done < <(remaining_zoo)
  if [ $((${#base[@]} + ${#models[@]})) -eq 0 ]; then
    echo "part $n: nothing to pack"
    return 0
  fi
  while :; do
    # shellcheck disable=SC2046 - one path per word
    tar -C "$WORK" -cJf "$tarball" "${base[@]}" $(for m in "${models[@]}"; do zoo_paths "$m"; done)
    [ "$(size_of "$tarball")" -le "$PART_LIMIT" ] || [ ${#models[@]} -eq 0 ] && break
    unset 'models[${#models[@]}-1]'  # compressed larger than the estimate: drop the largest model taken
  done
  mkdir -p "$out"
  split -b "$CHUNK" -d -a 1 "$tarball" "$out/part$n.tar.xz."
  for m in "${models[@]}"; do echo "$m"; done >> "$WORK/packed.txt"
  echo "part $n: $(ls "$out"/part"$n".tar.xz.* | wc -l) files, $(size_of "$tarball") bytes, ${#models[@]} zoo models;" \
       "$(remaining_zoo | wc -l) zoo models left"
  rm -f "$tarball"
}
