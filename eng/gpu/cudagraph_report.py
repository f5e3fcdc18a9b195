"""The CUDA-graph table of docs/benchmarks.md from eng/gpu/cudagraph_bench.py's results.jsonl.

Usage: python3 eng/gpu/cudagraph_report.py bench/results/cuda-h200/graphs/results.jsonl
"""
import json
import math
import sys


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def us(v):
    return f"{v:,.0f}" if isinstance(v, (int, float)) else "fails" if v == "fails" else ""


def main():
    rows = [json.loads(line) for line in open(sys.argv[1])]
    print("| model | nodes | ModelBuild graphs opt | ModelBuild without opt | PyTorch eager opt | reduce-overhead opt"
          " | ModelBuild graphs max | ModelBuild without max | PyTorch eager max | reduce-overhead max | us per node (graphs, opt) |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    ratios = {k: [] for k in ("eager_opt", "eager_max", "ro_opt", "ro_max", "self_opt", "self_max")}
    for r in rows:
        def get(key, case):
            v = r.get(f"{key}_{case}_us") or r.get(f"{key}_static_us")
            return v if v else ("fails" if f"{key}_{case}_error" in r else None)
        cells = []
        for case in ("opt", "max"):
            g, e, pe, ro = get("mb_graphs", case), get("mb_eager", case), get("eager", case), get("ro", case)
            cells += [g, e, pe, ro]
            if isinstance(g, (int, float)):
                if isinstance(pe, (int, float)):
                    ratios[f"eager_{case}"].append(pe / g)
                if isinstance(ro, (int, float)):
                    ratios[f"ro_{case}"].append(g / ro)
                if isinstance(e, (int, float)):
                    ratios[f"self_{case}"].append(e / g)
        per_node = cells[0] / r["nodes"] if isinstance(cells[0], (int, float)) and r.get("nodes") else None
        print(f"| {r['model']} | {r.get('nodes', '')} | " + " | ".join(us(c) for c in cells) + f" | {per_node:.1f} |" if per_node else
              f"| {r['model']} | {r.get('nodes', '')} | " + " | ".join(us(c) for c in cells) + " |  |")
    print()
    for case in ("opt", "max"):
        print(f"- at `{case}`: PyTorch eager / ModelBuild with graphs, geometric mean **{geomean(ratios[f'eager_{case}']):.2f}x** "
              f"over {len(ratios[f'eager_{case}'])} models; ModelBuild with graphs / `reduce-overhead` **{geomean(ratios[f'ro_{case}']):.2f}** "
              f"over {len(ratios[f'ro_{case}'])}; ModelBuild without graphs / with **{geomean(ratios[f'self_{case}']):.2f}x** over {len(ratios[f'self_{case}'])}.")


if __name__ == "__main__":
    main()
