#!/usr/bin/env bash
# Packs the zoo models that eng/gpu/generate.sh could not fit in part 1, in a later device call on the same machine
# (it reads /tmp/mbgen): OUT_DIR/part<N>.tar.xz.<k>, at most 58 MiB per call. Run it again while it reports
# models left.
#   eng/gpu/pack_rest.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
source eng/gpu/packlib.sh
[ -f "$WORK/last_part" ] || { echo "no $WORK/last_part: run eng/gpu/generate.sh first (same machine)" >&2; exit 1; }
if [ -z "$(remaining_zoo)" ]; then
  echo "nothing left to pack"
  exit 0
fi
n=$(( $(cat "$WORK/last_part") + 1 ))
pack_part "$n" "$1"
echo "$n" > "$WORK/last_part"
ls -l "$1"
