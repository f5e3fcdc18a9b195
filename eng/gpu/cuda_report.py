"""Turns the files eng/gpu/cuda_bench.py wrote (results.jsonl, anchors*.jsonl) into the Markdown tables of
docs/benchmarks.md, "CUDA (H200)". Usage: python3 eng/gpu/cuda_report.py RUN_DIR [RUN_DIR...]
Later runs override earlier ones for the same (model, file, precision) and anchors model."""
import json, os, sys


def rows(path):
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


def us(v):
    return "" if v is None else f"{v:,.0f}"


def main():
    results, anchors, anchors_max = {}, {}, {}
    for d in sys.argv[1:]:
        for r in rows(f"{d}/results.jsonl"):
            if "model" in r:
                results[(r["model"], r["file"], r["precision"])] = r
        anchors.update({r["model"]: r for r in rows(f"{d}/anchors.jsonl")})
        anchors_max.update({r["model"]: r for r in rows(f"{d}/anchors.max.jsonl")})

    print("| model | file | precision | compile s | verify | load ms | first run ms | ModelBuild opt us | PyTorch eager us | torch.compile us | ModelBuild max us | eager max us | torch.compile max us |")
    print("|---|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for (model, file, precision), r in results.items():
        if r["compile_rc"] != 0:
            err = r["compile_error"][0]
            err = err.split(": ", 3)[-1][:90] if err.startswith("modelc: error") else err[:90]
            code = r["compile_error"][0].split()[2].rstrip(":") if r["compile_error"][0].startswith("modelc: error") else ""
            print(f"| {model} | {file} | {precision} | {r['compile_s']:.1f} | not compiled: {code} {err}... | | | | | | | | |")
            continue
        b, bm = r.get("bench", {}), r.get("bench_max", {})
        a = anchors.get(model, {}) if precision == "fp32" and file == "model.pt2" else {}
        am = anchors_max.get(model, {}) if precision == "fp32" and file == "model.pt2" else {}
        if not a and precision == "fp32" and file != "model.pt2":
            a, am = anchors.get(model, {}), anchors_max.get(model, {})
        eager = us(a.get("eager_cuda_us")) or ("fails" if "eager_cuda_error" in a else "")
        compiled = us(a.get("compile_cuda_us")) or ("fails" if "eager_cuda_error" in a or "compile_cuda_error" in a else "")
        eager_max = us(am.get("eager_cuda_us")) or ("fails" if "eager_cuda_error" in am else "")
        compiled_max = us(am.get("compile_cuda_us")) or ("fails" if "eager_cuda_error" in am or "compile_cuda_error" in am else "")
        print(f"| {model} | {file} | {precision} | {r['compile_s']:.1f} | {r.get('verify', '')} | {b.get('loadMs', 0):.1f} | {b.get('firstRunMs', 0):.0f} "
              f"| {us(b.get('medianUs'))} | {eager} | {compiled} | {us(bm.get('medianUs'))} | {eager_max} | {compiled_max} |")

    failures = {m: r["eager_cuda_error"] for m, r in anchors.items() if "eager_cuda_error" in r}
    if failures:
        print()
        print("PyTorch itself, `torch.export.load(model.pt2).module().to('cuda')` then a call:")
        print()
        for m, e in sorted(failures.items()):
            print(f"- {m}: `{e}`")


if __name__ == "__main__":
    main()
