#!/usr/bin/env bash
# Prints the facts a CUDA-graph implementation needs from the GPU machine's PyTorch: exported symbols of libtorch_cuda
# and libc10_cuda (demangled and mangled), sizeof/alignof(at::cuda::CUDAGraph) from the header alone (compiled to
# assembly, never linked), where libcudart lives and which graph functions it exports.
#   eng/gpu/probe_cudagraph.sh
set -uo pipefail
PY=${PYTHON:-/opt/torch/.venv/bin/python3}
[ -x "$PY" ] || PY=python3
TORCH=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
TL=$TORCH/lib
NV=$(dirname "$TORCH")/nvidia
echo "torch: $TORCH"
echo "TL=$TL"
echo "NV=$NV"

section() { printf '\n== %s\n' "$*"; }

section "demangled symbols (nm -DC --defined-only) of libtorch_cuda.so and libc10_cuda.so"
for lib in "$TL/libtorch_cuda.so" "$TL/libc10_cuda.so"; do
  echo "-- $lib"
  nm -DC --defined-only "$lib" | grep -E 'CUDAGraph::|getStreamFromPool|setCurrentCUDAStream|torch_get_cuda_stream_from_pool|torch_set_current_cuda_stream|aoti_torch_get_current_cuda_stream|graph_pool_handle' | sort -u
done

section "mangled names of at::cuda::CUDAGraph members (nm -D)"
nm -D --defined-only "$TL/libtorch_cuda.so" | grep 'CUDAGraph' | while read -r addr kind sym; do
  printf '%s  %s\n' "$sym" "$(echo "$sym" | c++filt)"
done | grep -E 'CUDAGraph::(CUDAGraph|~CUDAGraph|capture_begin|capture_end|replay|pool)\(' | sort -u

section "CUDACachingAllocator pool functions (libc10_cuda.so)"
for f in beginAllocateToPool endAllocateToPool releasePool; do
  hits=$(nm -D --defined-only "$TL/libc10_cuda.so" | grep "$f" | awk '{print $3}')
  if [ -n "$hits" ]; then
    for h in $hits; do printf '%s: %s  %s\n' "$f" "$h" "$(echo "$h" | c++filt)"; done
  else
    echo "$f: not exported"
  fi
done

section "sizeof / alignof(at::cuda::CUDAGraph) (g++ -S against torch/include, -D_GLIBCXX_USE_CXX11_ABI=1)"
tmp=$(mktemp -d)
cat > "$tmp/probe.cpp" <<'CPP'
#include <ATen/cuda/CUDAGraph.h>
extern "C" const unsigned long mb_sizeof_cudagraph = sizeof(at::cuda::CUDAGraph);
extern "C" const unsigned long mb_alignof_cudagraph = alignof(at::cuda::CUDAGraph);
CPP
cuda_inc=()
for d in "$NV/cu13/include" "$NV/cuda_runtime/include" /usr/local/cuda/include; do
  [ -d "$d" ] && cuda_inc+=("-I$d")
done
if g++ -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 -I"$TORCH/include" -I"$TORCH/include/torch/csrc/api/include" \
     "${cuda_inc[@]}" -S -o "$tmp/probe.s" "$tmp/probe.cpp" 2> "$tmp/err.txt"; then
  for v in mb_sizeof_cudagraph mb_alignof_cudagraph; do
    printf '%s = %s\n' "$v" "$(awk -v v="$v:" '$1 == v {getline; print $2; exit}' "$tmp/probe.s")"
  done
else
  echo "compile failed:"; head -20 "$tmp/err.txt"
fi
rm -rf "$tmp"

section "libcudart"
cudart=$(ls "$NV"/cu13/lib/libcudart.so* "$NV"/cuda_runtime/lib/libcudart.so* 2>/dev/null | head -1)
if [ -n "$cudart" ]; then
  ls -l "$(dirname "$cudart")"/libcudart.so*
  for f in cudaStreamBeginCapture cudaStreamEndCapture cudaGraphInstantiate cudaGraphLaunch cudaStreamIsCapturing \
           cudaGraphExecDestroy cudaGraphDestroy; do
    printf '%-24s %s\n' "$f" "$(nm -D --defined-only "$cudart" | awk -v f="$f" '$3 == f || index($3, f "@") == 1 {print "exported: " $3}' | head -1)"
  done
else
  echo "libcudart.so not found under $NV/cu13/lib or $NV/cuda_runtime/lib"
fi
