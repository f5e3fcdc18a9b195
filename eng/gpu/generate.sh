#!/usr/bin/env bash
# The one command to run on the GPU machine: makes every fixture set, then packs part 1 for the transfer back.
#
#   eng/gpu/generate.sh OUT_DIR BUDGET_SECONDS
#
# Runs concurrently, each under the budget less the time packing needs, logging to /tmp/mbgen/logs/<name>.log:
#   fixtures  eng/fixtures/make_fixtures.py (public, extra, hop)
#   ops       eng/fixtures/make_op_fixtures.py (OpInfo suite; OPS_WORKERS processes, default 5)
#   exportdb  eng/fixtures/make_exportdb.py
#   zoo       eng/zoo/make_zoo.py (ZOO_WORKERS processes, default 8)
# The worker counts share the machine's 16 cores between the two parallel generators and the two serial ones (2
# threads each). Everything runs on the CPU: CUDA_VISIBLE_DEVICES is emptied so no process creates a CUDA context.
# Results live in /tmp/mbgen/out/{public,extra,hop,ops,exportdb,zoo}. OUT_DIR receives part 1 (packlib.sh:
# part1.tar.<k>, 15 MiB chunks, at most 58 MiB in all) holding everything but the zoo models that did not fit, and
# summary.txt. eng/gpu/pack_rest.sh OUT_DIR packs the remaining zoo models in later calls; eng/gpu/unpack.sh
# reassembles the parts on the development machine. With ZOO_PACK_FILES="model.pt2 cases.safetensors fixture.json"
# (for both scripts) only those files of each zoo model travel.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 OUT_DIR BUDGET_SECONDS" >&2; exit 2; }
out=$1
budget=$2
source eng/gpu/packlib.sh
PY=${PYTHON:-/opt/torch/.venv/bin/python3}
[ -x "$PY" ] || PY=python3
pack_reserve=${PACK_RESERVE:-75}
gen_budget=$((budget - pack_reserve))
[ "$gen_budget" -gt 30 ] || { echo "budget too small: $budget s (packing alone needs $pack_reserve s)" >&2; exit 2; }

export CUDA_VISIBLE_DEVICES=
rm -rf "$WORK"
mkdir -p "$RESULTS" "$WORK/logs" "$out"
: > "$WORK/packed.txt"
echo "generate: $("$PY" -c 'import torch; print("torch", torch.__version__)'), budget $budget s (generators $gen_budget s)"

run() {  # run NAME SCRIPT ARGS...: one generator, killed 20 s after the budget if it has not stopped by itself
  local name=$1; shift
  local t0=$SECONDS
  timeout -k 15 $((gen_budget + 20)) "$PY" "$@" > "$WORK/logs/$name.log" 2>&1
  echo "$name: exit $?, $((SECONDS - t0)) s" >> "$WORK/logs/exit.txt"
}
run fixtures eng/fixtures/make_fixtures.py "$RESULTS" public extra hop --budget "$gen_budget" &
run ops eng/fixtures/make_op_fixtures.py "$RESULTS" --budget "$gen_budget" --workers "${OPS_WORKERS:-5}" \
  --workdir "$WORK/ops.work" &
run exportdb eng/fixtures/make_exportdb.py "$RESULTS" --budget "$gen_budget" &
run zoo eng/zoo/make_zoo.py "$RESULTS" --budget "$gen_budget" --workers "${ZOO_WORKERS:-8}" &
wait

"$PY" eng/gpu/summarize.py "$RESULTS" "$WORK/logs/exit.txt" | tee "$WORK/logs/summary.txt"
cp "$WORK/logs/summary.txt" "$out/summary.txt"
base=()
for p in out/public out/extra out/hop out/ops out/exportdb out/zoo/index.json logs; do
  [ -e "$WORK/$p" ] && base+=("$p")
done
pack_part 1 "$out" "${base[@]}"
echo 1 > "$WORK/last_part"
ls -l "$out"
