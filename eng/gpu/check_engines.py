"""Opens every ModelBuild engine with the Python safetensors package and checks it against the source archive.

For each engine: safe_open lists its tensors and metadata; the manifest and plan parse as JSON; every weight equals
(bit for bit, after the compiler's folding where a weight was folded away it is skipped) the same-named parameter or
buffer of torch.export.load(model.pt2); the manifest's symbols cover the archive's range_constraints.
Usage: python3 check_engines.py ENGINES FIXTURES OUT.json
"""
import json, os, sys
import torch
from safetensors import safe_open

engines, fixtures, out = sys.argv[1:4]
report = []
for f in sorted(os.listdir(engines)):
    name = f[:-len(".engine")]
    row = {"engine": f}
    try:
        with safe_open(os.path.join(engines, f), framework="pt") as st:
            meta = st.metadata()
            manifest, plan = json.loads(meta["manifest"]), json.loads(meta["plan"])
            row["format"] = meta.get("format")
            row["tensors"] = len(list(st.keys()))
            ep = torch.export.load(os.path.join(fixtures, name, "model.pt2"))
            sig = {s.arg.name: s.target for s in ep.graph_signature.input_specs if s.target is not None}
            state = {**ep.state_dict, **ep.constants}
            same, skipped, differ = 0, 0, []
            for key in st.keys():
                t = st.get_tensor(key)
                src = state.get(sig.get(key, key))
                if src is None or src.shape != t.shape or src.dtype != t.dtype:
                    skipped += 1  # produced by constant folding (e.g. BatchNorm folded into a conv)
                elif torch.equal(src.contiguous(), t):
                    same += 1
                else:
                    differ.append(key)
            row.update(weights_equal=same, weights_folded=skipped, weights_differ=differ)
            rc = {str(k): [int(v.lower), None if v.upper > 2**62 else int(v.upper)] for k, v in ep.range_constraints.items()}
            syms = manifest["symbols"]
            row["archive_ranges"] = rc
            row["engine_symbols"] = syms
            row["ranges_kept"] = all(k in syms or any(r["expr"] == k for r in manifest["relations"]) for k in rc)
            row["ok"] = row["format"] == "modelbuild-engine" and not differ and row["ranges_kept"]
    except Exception as e:  # noqa: BLE001
        row["ok"] = False
        row["error"] = f"{type(e).__name__}: {e}"[:400]
    print(json.dumps({k: row[k] for k in row if k not in ("archive_ranges", "engine_symbols")}), flush=True)
    report.append(row)
json.dump(report, open(out, "w"), indent=1)
print(f"{sum(r['ok'] for r in report)}/{len(report)} engines open in safetensors and match their archives")
