"""Runs modelc compile and verify on every zoo model and writes a Markdown table (see run-zoo.sh)."""
import argparse
import json
import os
import re
import subprocess
import sys
import time


def run(command, timeout):
    start = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout} s", time.monotonic() - start


def error_of(stderr):
    """The first 'modelc: error MB####: file: sentence' line: its code and sentence (the file is the model's)."""
    for line in stderr.splitlines():
        match = re.match(r"modelc: error (MB\d{4}): (?:[^:]*\.pt2: )?(.*)", line)
        if match:
            return match.group(1), match.group(2)
    lines = [l for l in stderr.splitlines() if l.strip()]
    return None, lines[0] if lines else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--modelc", required=True)
    parser.add_argument("--zoo", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("models", nargs="*")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    names = args.models or sorted(d for d in os.listdir(args.zoo) if os.path.isfile(os.path.join(args.zoo, d, "model.pt2")))
    results = []
    raw = open(os.path.join(os.path.dirname(args.out), "results.jsonl"), "w")
    for name in names:
        folder = os.path.join(args.zoo, name)
        fixture = json.load(open(os.path.join(folder, "fixture.json")))
        cases = os.path.join(folder, "cases.safetensors")
        engine = os.path.join(args.work, name + ".mbengine")
        tolerance = max(fixture.get("atol", 1e-4), fixture.get("rtol", 1e-4))
        code, out, err, seconds = run(["dotnet", args.modelc, "compile", os.path.join(folder, "model.pt2"), "-o", engine,
                                       "--backend", "torch", "--cases", cases, "--tolerance", str(tolerance)], args.timeout)
        result = {"model": name, "library": fixture.get("library", ""), "family": fixture.get("family", ""),
                  "nodes": fixture.get("nodes"), "compile_seconds": round(seconds, 1), "tolerance": tolerance}
        if code == 0:
            result["compile"] = "ok"
            vcode, vout, verr, _ = run(["dotnet", args.modelc, "verify", engine, "--cases", cases], args.timeout)
            last = (vout.strip().splitlines() or [""])[-1]
            result["verify"] = last if re.match(r"\d+ passed, \d+ failed", last) else (error_of(verr)[1] or "verify failed")
        else:
            diagnostic, sentence = error_of(err)
            result["compile"] = diagnostic or ("timeout" if code is None else f"exit {code}")
            result["error"] = sentence
            result["stderr"] = err[-4000:]
        results.append(result)
        raw.write(json.dumps(result) + "\n")
        raw.flush()
        print(f"{name}: {result['compile']} {result.get('verify', '')} {result['compile_seconds']} s", file=sys.stderr)
    write_table(results, args.out)


def write_table(results, path):
    compiled = [r for r in results if r["compile"] == "ok"]
    verified = [r for r in compiled if re.match(r"\d+ passed, 0 failed", r.get("verify", ""))]
    lines = [
        f"{len(results)} models: {len(compiled)} compile (`modelc compile --backend torch --cases`, validated against the "
        f"reference interpreter at min/opt/max and every case), {len(verified)} of them reproduce every case in `modelc verify`.",
        "",
        "| model | library | family | nodes | compile | verify | compile s | error |",
        "| --- | --- | --- | ---: | --- | --- | ---: | --- |",
    ]
    for r in results:
        error = r.get("error", "").replace("|", "\\|")
        if len(error) > 160:
            error = error[:157] + "..."
        lines.append(f"| {r['model']} | {r['library']} | {r['family']} | {r['nodes']} | {r['compile']} | {r.get('verify', '')} "
                     f"| {r['compile_seconds']} | {error} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
