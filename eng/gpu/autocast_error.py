"""How far PyTorch's own reduced precision lands from its fp32 outputs, measured the way ModelBuild validates engines
(src/ModelBuild.Compiler/Validation/OutputComparison.cs): per output, scaled error = max |a - b| / (|b| + rms(b)) and
cosine similarity, worst over the cases. For every model folder (model.pt2, cases.safetensors with <case>.in.<i> and
<case>.out.<j>, the fp32 outputs the engines are checked against): the exported program on CUDA under
torch.autocast(float16 / bfloat16), and the whole program cast with .half() / .bfloat16() (every op in the reduced
type, as ModelBuild's engines but without its fp32 islands). Tells whether a default tolerance that an engine misses
is one that PyTorch meets on the same model (docs/precision.md).

Usage (GPU machine): python3 eng/gpu/autocast_error.py OUT.jsonl MODEL_DIR...
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file


def compare(actual, expected):
    a = actual.detach().double().cpu()
    b = expected.double()
    finite = torch.isfinite(a) & torch.isfinite(b)
    diff = torch.where((a == b) | (a.isnan() & b.isnan()), torch.zeros_like(a), (a - b).abs().nan_to_num(float("inf"), float("inf")))
    if diff.numel() == 0:
        return 0.0, 1.0
    abs_b = torch.where(finite, b.abs(), torch.zeros_like(b))
    scale = abs_b.square().mean().sqrt()
    scaled = (diff / (abs_b + scale)).nan_to_num(0.0, float("inf")).max().item()
    af, bf = torch.where(finite, a, 0).flatten(), torch.where(finite, b, 0).flatten()
    norms = af.norm() * bf.norm()
    cosine = 1.0 if norms == 0 else (af @ bf / norms).item()
    return scaled, cosine


def flat(outputs):
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [t for o in outputs for t in flat(o)] if isinstance(outputs, (list, tuple)) else []


def measure(folder):
    cases = load_file(os.path.join(folder, "cases.safetensors"))
    names = sorted({k.split(".")[0] for k in cases})
    module = torch.export.load(os.path.join(folder, "model.pt2")).module().cuda()
    modes = {
        "autocast_fp16": lambda xs: run_autocast(module, xs, torch.float16),
        "autocast_bf16": lambda xs: run_autocast(module, xs, torch.bfloat16),
        "half_fp16": lambda xs: run_cast(module, xs, torch.float16),
        "half_bf16": lambda xs: run_cast(module, xs, torch.bfloat16),
    }
    row = {"model": os.path.basename(folder.rstrip("/"))}
    for mode, run in modes.items():
        worst = (0.0, 1.0)
        try:
            for case in names:
                inputs = [cases[f"{case}.in.{i}"].cuda() for i in range(sum(k.startswith(f"{case}.in.") for k in cases))]
                expected = [cases[f"{case}.out.{j}"] for j in range(sum(k.startswith(f"{case}.out.") for k in cases))]
                for out, exp in zip(flat(run(inputs)), expected):
                    if exp.is_floating_point():
                        scaled, cosine = compare(out.float(), exp)
                        worst = (max(worst[0], scaled), min(worst[1], cosine))
            row[mode] = {"scaled_error": worst[0], "cosine": worst[1]}
        except Exception as e:  # one mode PyTorch cannot run (a cpu-traced arange, a dtype mismatch) is recorded, not fatal
            row[mode] = {"error": str(e).splitlines()[0][:200]}
    return row


def run_autocast(module, inputs, dtype):
    with torch.no_grad(), torch.autocast("cuda", dtype=dtype):
        return module(*inputs)


def run_cast(module, inputs, dtype):
    import copy
    cast = copy.deepcopy(module).to(dtype)
    with torch.no_grad():
        return cast(*[x.to(dtype) if x.is_floating_point() else x for x in inputs])


def main():
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    with open(sys.argv[1], "w") as out:
        for folder in sys.argv[2:]:
            try:
                row = measure(folder)
            except Exception as e:
                row = {"model": os.path.basename(folder.rstrip("/")), "error": str(e).splitlines()[0][:200]}
            out.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
