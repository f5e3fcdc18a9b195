"""A convolution-heavy model at full size, made on the GPU machine for the fp16/bf16 measurements (docs/benchmarks.md):
the zoo's reduced models are launch-bound on an H200, where precision cannot matter; torchvision's ResNet-50 at
224x224 is compute-bound. Random weights, BatchNorm calibrated (eng/fixtures/common.py). Writes OUTDIR/resnet50/ with
model.pt2 (dynamic batch 1..32), cases.safetensors (min 1, opt 8, max 32; eager fp32 CPU outputs) and fixture.json.

Usage: python3 make_convheavy.py OUTDIR
"""
import json
import os
import sys

import torch
import torchvision
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import common  # noqa: E402


def main():
    out = os.path.join(sys.argv[1], "resnet50")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(16)
    model = torchvision.models.resnet50(num_classes=1000)
    common.calibrate_batchnorm(model, lambda: (torch.randn(8, 3, 224, 224),), steps=2)
    model.eval()
    batch = torch.export.Dim("batch", min=1, max=32)
    ep = torch.export.export(model, (torch.randn(8, 3, 224, 224),), dynamic_shapes={"x": {0: batch}})
    torch.export.save(ep, os.path.join(out, "model.pt2"))
    tensors = {}
    with torch.no_grad():
        for case, b in (("min", 1), ("opt", 8), ("max", 32)):
            x = torch.randn(b, 3, 224, 224)
            tensors[f"{case}.in.0"] = x
            tensors[f"{case}.out.0"] = model(x).contiguous()
    save_file(tensors, os.path.join(out, "cases.safetensors"))
    with open(os.path.join(out, "fixture.json"), "w") as f:
        json.dump({"name": "resnet50", "nodes": common.count_nodes(ep), "params": common.count_params(model)}, f)
    print(f"resnet50: {common.count_nodes(ep)} nodes, {common.count_params(model)} params", flush=True)


if __name__ == "__main__":
    main()
