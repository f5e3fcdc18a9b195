#!/usr/bin/env python3
"""Merges the JSON reports of eng/fuzz.sh (one per target and shard) into one Markdown table per target.

Usage: python3 eng/fuzz_summary.py OUT-FOLDER
"""
import glob
import json
import os
import sys

ORDER = ["pt2", "pt2-legacy", "torchscript", "onnx", "pickle", "safetensors-cases", "safetensors-inputs", "engine", "manifest", "plan"]


def main(folder):
    merged = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        for r in json.load(open(path)):
            m = merged.setdefault(r["target"], {"inputs": 0, "seconds": 0.0, "read": 0, "codes": {}, "unhandled": 0, "hangs": 0,
                                                "overMemory": 0, "unnamed": 0, "remeasured": 0, "maxAllocatedBytes": 0,
                                                "maxAllocatedInputBytes": 0, "maxRssGrowthBytes": 0, "processPeakRssBytes": 0,
                                                "slowest": [], "failures": [], "runs": 0})
            m["runs"] += 1
            for key in ("inputs", "seconds", "read", "unhandled", "hangs", "overMemory", "unnamed", "remeasured"):
                m[key] += r[key]
            for code, n in r["codes"].items():
                m["codes"][code] = m["codes"].get(code, 0) + n
            if r["maxAllocatedBytes"] > m["maxAllocatedBytes"]:
                m["maxAllocatedBytes"], m["maxAllocatedInputBytes"] = r["maxAllocatedBytes"], r["maxAllocatedInputBytes"]
            m["maxRssGrowthBytes"] = max(m["maxRssGrowthBytes"], r["maxRssGrowthBytes"])
            m["processPeakRssBytes"] = max(m["processPeakRssBytes"], r["processPeakRssBytes"])
            m["slowest"] = sorted(m["slowest"] + r["slowest"], key=lambda s: -s["milliseconds"])[:3]
            m["failures"] += r["failures"]

    mib = lambda b: f"{b / 1048576:.1f}"
    print("| target | inputs | read | refused | unhandled | hangs | over memory | naming no file | inputs/s per core | max allocated MiB (input MiB) | max RSS growth MiB | process peak RSS MiB | slowest ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in [t for t in ORDER if t in merged]:
        m = merged[name]
        refused = sum(m["codes"].values())
        rate = m["inputs"] / m["seconds"] if m["seconds"] else 0
        slowest = m["slowest"][0]["milliseconds"] if m["slowest"] else 0
        print(f"| {name} | {m['inputs']:,} | {m['read']:,} | {refused:,} | {m['unhandled']} | {m['hangs']} | {m['overMemory']} | {m['unnamed']} | "
              f"{rate:,.0f} | {mib(m['maxAllocatedBytes'])} ({mib(m['maxAllocatedInputBytes'])}) | {mib(m['maxRssGrowthBytes'])} | "
              f"{mib(m['processPeakRssBytes'])} | {slowest:,.0f} |")
    print()
    print("Codes per target (most frequent first):")
    print()
    for name in [t for t in ORDER if t in merged]:
        codes = sorted(merged[name]["codes"].items(), key=lambda c: -c[1])
        print(f"- {name}: " + ", ".join(f"{c} {n:,}" for c, n in codes))
    failures = [(name, f) for name in ORDER if name in merged for f in merged[name]["failures"]]
    print()
    print(f"Failures: {len(failures)}")
    for name, f in failures[:50]:
        print(f"- {name} input {f['index']} ({f['seed']}): {f['kind']}: {f['detail'][:300]}")


if __name__ == "__main__":
    main(sys.argv[1])
