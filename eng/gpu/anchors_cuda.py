"""PyTorch's own latency on CUDA for the models ModelBuild is measured on, so both stand side by side (one machine,
one call): eager (`torch.export.load(model.pt2).module()` on cuda) and `torch.compile(mode="reduce-overhead")` (Inductor
kernels replayed as CUDA graphs), at the `opt` and `max` cases of each model's cases.safetensors.

  --warm   compile only (fills Inductor's on-disk caches, so the timing run that follows compiles from cache);
           several --warm processes may split the models with --shard K/N
  (default) time: median microseconds over the runs, waiting for the device after each, as `modelc bench` does

Usage: python3 anchors_cuda.py MODEL_DIR... [--warm] [--shard K/N] [--json OUT.jsonl] [--budget-s S]
Each MODEL_DIR holds model.pt2 and cases.safetensors. Prints one JSON object per model.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
from safetensors.torch import load_file


def case_inputs(cases, case):
    names = sorted((k for k in cases if k.startswith(f"{case}.in.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    return [cases[n].cuda() for n in names]


def median_us(fn, runs=100, warmup=10, budget_s=2.0):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times, start = [], time.perf_counter()
    while len(times) < runs and (len(times) < 10 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def first_line(e):
    return f"{type(e).__name__}: {e}".splitlines()[0][:300]


def measure(model_dir, warm_only):
    name = os.path.basename(os.path.normpath(model_dir))
    row = {"model": name}
    cases = load_file(os.path.join(model_dir, "cases.safetensors"))
    module = torch.export.load(os.path.join(model_dir, "model.pt2")).module().cuda()  # an unlifted export module has no eval(): it is in eval mode as exported
    compiled = torch.compile(module, mode="reduce-overhead")
    for case in ("opt", "max"):
        inputs = case_inputs(cases, case)
        if not inputs:
            continue
        with torch.no_grad():
            if not warm_only:
                try:
                    row[f"eager_{case}_us"] = median_us(lambda: module(*inputs))
                except Exception as e:  # noqa: BLE001 - e.g. an export traced on CPU whose constants stay there
                    row[f"eager_{case}_error"] = first_line(e)
            try:
                t0 = time.perf_counter()
                compiled(*inputs)
                torch.cuda.synchronize()
                row[f"ro_{case}_first_s"] = round(time.perf_counter() - t0, 2)
                if not warm_only:
                    row[f"ro_{case}_us"] = median_us(lambda: compiled(*inputs))
            except Exception as e:  # noqa: BLE001
                row[f"ro_{case}_error"] = first_line(e)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--warm", action="store_true")
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--json")
    ap.add_argument("--budget-s", type=float, default=1e9)
    a = ap.parse_args()
    k, n = map(int, a.shard.split("/"))
    start = time.perf_counter()
    out = open(a.json, "a") if a.json else None
    for i, model_dir in enumerate(a.models):
        if i % n != k:
            continue
        if time.perf_counter() - start > a.budget_s:
            print(json.dumps({"model": os.path.basename(model_dir), "skipped": "budget"}), flush=True)
            continue
        try:
            row = measure(model_dir, a.warm)
        except Exception as e:  # noqa: BLE001 - one model's failure does not stop the others
            row = {"model": os.path.basename(os.path.normpath(model_dir)), "error": first_line(e)}
        torch._dynamo.reset()
        line = json.dumps(row)
        print(line, flush=True)
        if out:
            out.write(line + "\n")
            out.flush()


if __name__ == "__main__":
    sys.exit(main())
