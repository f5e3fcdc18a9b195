"""Compiles every model of one or more model folders (the zoo of eng/zoo/make_zoo.py, the public fixtures) with `modelc
compile --cases` for each backend asked for, verifies each engine with `modelc verify`, optionally times the auto engine
next to ONNX Runtime and TorchScript (bench/ModelBuild.Backends.Benchmarks), and writes a Markdown table with the raw
results (one JSON object per model) beside it as results.jsonl.

Compiles and verifies run --jobs at a time, each pinned to one processor of --compile-cpus (or to --cpus-per-compile of them:
auto measures ONNX Runtime on one thread against one per processor it sees, so give each compile as many as the timings get); timings run one model at a
time, pinned to --bench-cpus, as soon as a model's auto engine exists. `--bench-again results.jsonl` times the auto engines
of an earlier run once more (another pass); `--report results.jsonl [--report pass2.jsonl ...]` rewrites the table only,
from the medians over the passes.
Used by bench/zoo/run-zoo.sh (torch backend, zoo) and bench/backends/run.sh (every backend, fixtures + zoo, timings).
"""
import argparse
import concurrent.futures
import json
import math
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time

BACKENDS = ("auto", "onnxruntime", "torch")


def command(tool):
    """A published app runs as is; a .dll through dotnet."""
    return ["dotnet", tool] if tool.endswith(".dll") else [tool]


def run(cmd, timeout, cpus=None):
    start = time.monotonic()
    if cpus:
        cmd = ["taskset", "-c", cpus] + cmd
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout} s", time.monotonic() - start


def error_of(stderr):
    """The first 'modelc: error MB####: file: sentence' line: its code and sentence (the file is the model's)."""
    for line in stderr.splitlines():
        match = re.match(r"modelc: error (MB\d{4}): (?:[^:]*\.(?:pt2|engine|safetensors): )?(.*)", line)
        if match:
            return match.group(1), match.group(2)
    lines = [l for l in stderr.splitlines() if l.strip() and "NNPACK" not in l]
    return None, lines[0] if lines else ""


def bench_case(cases):
    """opt where the cases file has it, else its first case (a static model's is `static`)."""
    with open(cases, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    names = sorted({k.split(".")[0] for k in header if k != "__metadata__"})
    return "opt" if "opt" in names else names[0]


def cpu_list(text):
    """'4-7,9' -> ['4', '5', '6', '7', '9']."""
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus += [str(c) for c in range(int(lo), int(hi or lo) + 1)]
    return cpus


def compile_slots(args):
    """Where compiles run: groups of --cpus-per-compile processors of --compile-cpus ('4,5,6,7' for taskset), or --jobs unpinned."""
    if not args.compile_cpus:
        return [None] * args.jobs
    cpus = cpu_list(args.compile_cpus)
    return [",".join(cpus[i:i + args.cpus_per_compile]) for i in range(0, len(cpus) - args.cpus_per_compile + 1, args.cpus_per_compile)]


class Runner:
    def __init__(self, args):
        self.args = args
        self.start = time.monotonic()
        self.cpus = queue.Queue()
        for cpus in compile_slots(args):
            self.cpus.put(cpus)
        self.bench_queue = queue.Queue()
        self.log_lock = threading.Lock()
        self.log = open(os.path.join(os.path.dirname(args.out), "log.txt"), "w")

    def left(self):
        return self.args.deadline_s - (time.monotonic() - self.start)

    def modelc(self, argv, timeout):
        cpu = self.cpus.get()
        try:
            code, out, err, seconds = run(command(self.args.modelc) + argv, timeout, cpu)
        finally:
            self.cpus.put(cpu)
        with self.log_lock:
            self.log.write(f"$ modelc {' '.join(argv)}\n# rc={code} {seconds:.1f}s cpu {cpu}\n{out[-3000:]}{err[-3000:]}\n")
            self.log.flush()
        return code, out, err, seconds

    def compile_and_verify(self, row, folder, backend):
        """Adds compile_<backend>, verify_<backend> (and the error) to the row; returns the engine or None."""
        if self.left() < 30:
            row[f"compile_{backend}"] = "not run"
            return None
        cases = os.path.join(folder, "cases.safetensors")
        engine = os.path.join(self.args.work, f"{row['model']}.{backend}.engine")
        code, out, err, seconds = self.modelc(["compile", os.path.join(folder, "model.pt2"), "-o", engine, "--backend", backend,
                                               "--cases", cases, "--tolerance", str(row["tolerance"])], min(self.args.timeout, max(30, self.left())))
        row[f"compile_{backend}_s"] = round(seconds, 1)
        if code != 0:
            diagnostic, sentence = error_of(err)
            row[f"compile_{backend}"] = diagnostic or ("timeout" if code is None else f"exit {code}")
            row[f"error_{backend}"] = sentence
            return None
        row[f"compile_{backend}"] = "ok"
        # "  backend onnxruntime (onnxruntime 8 nodes, torch 2 nodes); candidates at opt: torch 568 us, onnxruntime 35 us"
        for line in out.splitlines():
            match = re.match(r"\s*backend ([\w-]+) \((.*?) nodes\)(?:; candidates at opt: (.*))?", line)
            if match:
                row[f"chosen_{backend}"] = match.group(1)
                row[f"blocks_{backend}"] = match.group(2)
                if match.group(3):
                    row[f"candidates_{backend}"] = {c.split()[0]: float(c.split()[1]) for c in match.group(3).split(", ")}
        vcode, vout, verr, _ = self.modelc(["verify", engine, "--cases", cases], min(self.args.timeout, max(20, self.left())))
        last = (vout.strip().splitlines() or [""])[-1]
        if re.match(r"\d+ passed, \d+ failed", last):
            row[f"verify_{backend}"] = last
        else:
            diagnostic, sentence = error_of(verr)
            row[f"verify_{backend}"] = diagnostic or "verify failed"
            row[f"error_{backend}"] = sentence
        return engine

    def model(self, name, folder, source):
        fixture = json.load(open(os.path.join(folder, "fixture.json")))
        row = {"model": name, "source": source, "library": fixture.get("library", ""), "family": fixture.get("family", ""),
               "nodes": fixture.get("nodes"), "tolerance": max(fixture.get("atol", 1e-4), fixture.get("rtol", 1e-4))}
        for backend in self.args.backends.split(","):
            engine = self.compile_and_verify(row, folder, backend)
            if backend == "auto" and engine and self.args.harness:
                self.bench_queue.put((row, folder, engine))
        print(f"{name}: " + ", ".join(f"{b} {row.get('compile_' + b)} {row.get('verify_' + b, '')}" for b in self.args.backends.split(",")),
              file=sys.stderr, flush=True)
        return row

    def bench_loop(self):
        """One model at a time on --bench-cpus: the harness times ModelBuild, ONNX Runtime and TorchScript in one process."""
        while True:
            item = self.bench_queue.get()
            if item is None:
                return
            self.bench(*item)

    def bench(self, row, folder, engine):
        """Sets the row's bench (the harness's JSON line) or bench_error."""
        if self.left() < 15:
            row["bench_error"] = "not run: deadline"
            return
        argv = command(self.args.harness) + ["--name", row["model"], "--engine", engine, "--onnx", os.path.join(folder, "model.onnx"),
                                             "--ts", os.path.join(folder, "model.ts.pt"), "--cases", os.path.join(folder, "cases.safetensors"),
                                             "--case", bench_case(os.path.join(folder, "cases.safetensors")), "--seconds", str(self.args.bench_seconds)]
        code, out, err, seconds = run(argv, 120, self.args.bench_cpus)
        with self.log_lock:
            self.log.write(f"$ {' '.join(argv)}\n# rc={code} {seconds:.1f}s cpus {self.args.bench_cpus}\n{out[-3000:]}{err[-3000:]}\n")
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if code == 0 and lines:
            row["bench"] = json.loads(lines[-1])
            row.pop("bench_error", None)
        else:
            row.pop("bench", None)
            row["bench_error"] = (err.strip().splitlines() or [f"exit {code}"])[-1][:300]


def merge_passes(passes):
    """Rows of the first results.jsonl; each model's bench the median, per number, of its benches over every pass
    (a pass: one results.jsonl of the same models, from the run or a --bench-again), with `passes` the count; a run
    whose compiles ran without --harness has no benches, and passes without one do not count."""
    rows = passes[0]
    by_model = [{r["model"]: r for r in rows_} for rows_ in passes]
    for row in rows:
        benches = [p[row["model"]]["bench"] for p in by_model if "bench" in p.get(row["model"], {})]
        if not benches:
            continue
        merged = dict(benches[0])
        if len(benches) > 1:
            for key, value in benches[0].items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and all(key in b for b in benches):
                    merged[key] = statistics.median(b[key] for b in benches)
            merged["passes"] = len(benches)
        row["bench"] = merged
        row.pop("bench_error", None)
    return rows

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--modelc")
    parser.add_argument("--models-dir", action="append", default=[], help="a folder of model folders (repeatable)")
    parser.add_argument("--zoo", help="same as --models-dir (the zoo)")
    parser.add_argument("--out", required=True, help="the Markdown table; results.jsonl and log.txt go beside it")
    parser.add_argument("--work", help="where engines go")
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--backends", default="torch", help=f"comma-separated, of {', '.join(BACKENDS)}")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--compile-cpus", help="e.g. 4-15: one compile or verify per processor, pinned")
    parser.add_argument("--cpus-per-compile", type=int, default=1, help="with --compile-cpus: each compile pinned to this many of them")
    parser.add_argument("--harness", help="ModelBuild.Backends.Benchmarks: time each auto engine")
    parser.add_argument("--bench-cpus", help="e.g. 0-3: where every timing runs (taskset)")
    parser.add_argument("--bench-seconds", type=float, default=3)
    parser.add_argument("--deadline-s", type=float, default=1e9)
    parser.add_argument("--report", action="append", help="only rewrite the table from this results.jsonl; given again, each further one is "
                        "another timing pass of the same models, and each model's numbers are the medians over the passes")
    parser.add_argument("--bench-again", help="only time again the auto engines (in --work) of this results.jsonl's models; writes "
                        "results.jsonl beside --out")
    parser.add_argument("--no-timings", action="store_true", help="with --report: the compile and verify columns only")
    parser.add_argument("models", nargs="*")
    args = parser.parse_args()
    if args.report:
        passes = [[json.loads(l) for l in open(path)] for path in args.report]
        write_table(merge_passes(passes), args.out, args.backends.split(","), not args.no_timings)
        return
    dirs = args.models_dir + ([args.zoo] if args.zoo else [])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    args.work = args.work or os.path.join(os.path.dirname(os.path.abspath(args.out)), "engines")
    os.makedirs(args.work, exist_ok=True)
    models = []
    for d in dirs:
        source = "zoo" if os.path.exists(os.path.join(d, "index.json")) else os.path.basename(os.path.normpath(d))
        models += [(n, os.path.join(d, n), source) for n in sorted(os.listdir(d))
                   if os.path.isfile(os.path.join(d, n, "model.pt2")) and (not args.models or n in args.models)]
    runner = Runner(args)
    if args.bench_again:
        folders = {name: folder for name, folder, _ in models}
        rows = [json.loads(l) for l in open(args.bench_again)]
        for row in rows:
            engine = os.path.join(args.work, f"{row['model']}.auto.engine")
            if row["model"] in folders and os.path.isfile(engine) and "chosen_auto" in row:
                runner.bench(row, folders[row["model"]], engine)
        write_results(rows, args)
        return
    bench = threading.Thread(target=runner.bench_loop)
    bench.start()
    workers = len(compile_slots(args))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        rows = list(pool.map(lambda m: runner.model(*m), models))
    runner.bench_queue.put(None)
    bench.join()
    write_results(rows, args)


def write_results(rows, args):
    with open(os.path.join(os.path.dirname(os.path.abspath(args.out)), "results.jsonl"), "w") as raw:
        for row in rows:
            raw.write(json.dumps(row) + "\n")
    write_table(rows, args.out, args.backends.split(","))


def passed(row, backend):
    return row.get(f"compile_{backend}") == "ok" and re.match(r"\d+ passed, 0 failed", row.get(f"verify_{backend}", "")) is not None


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def cell(row, backend):
    result = row.get(f"compile_{backend}")
    if result is None:
        return ""
    if result != "ok":
        return result
    verify = row.get(f"verify_{backend}", "")
    match = re.match(r"(\d+) passed, (\d+) failed", verify)
    return f"ok {match.group(1)}/{int(match.group(1)) + int(match.group(2))}" if match else f"ok, verify {verify}"


def fmt(value, digits=1):
    return "" if value is None else f"{value:,.{digits}f}"


def write_table(rows, path, backends, timings=True):
    lines = []
    for backend in backends:
        ran = [r for r in rows if r.get(f"compile_{backend}") not in (None, "not run")]
        ok = [r for r in ran if passed(r, backend)]
        for source in sorted({r["source"] for r in ran}):
            of_source = [r for r in ran if r["source"] == source]
            good = [r for r in ok if r["source"] == source]
            lines.append(f"- `--backend {backend}`, {source}: **{len(good)} of {len(of_source)}** compile and pass every case in "
                         f"`modelc verify` ({100 * len(good) / max(1, len(of_source)):.0f}%).")
    timed = [r for r in rows if "mb_us" in r.get("bench", {})] if timings else []
    vs_ort = [(r["bench"]["mb_us"] / r["bench"]["ort_us"], r["model"]) for r in timed if "ort_us" in r["bench"]]
    vs_ts = [(r["bench"]["mb_us"] / r["bench"]["ts_us"], r["model"]) for r in timed if "ts_us" in r["bench"]]
    if vs_ort:
        worst = max(vs_ort)
        load = [(r["bench"]["mb_load_ms"] / r["bench"]["ort_load_ms"]) for r in timed if "ort_load_ms" in r["bench"]]
        sources = sorted({r["source"] for r in timed})

        def per_source(numerator, denominator):
            return [f"  - {source}: geometric mean {geomean(sub):.3f} over {len(sub)} models." for source in sources
                    if (sub := [r["bench"][numerator] / r["bench"][denominator] for r in timed if r["source"] == source and denominator in r["bench"]])]

        lines += [
            f"- latency at `opt`, ModelBuild (auto) / ONNX Runtime on PyTorch's ONNX export: geometric mean **{geomean([v for v, _ in vs_ort]):.3f}** "
            f"over {len(vs_ort)} models, worst **{worst[0]:.2f}** ({worst[1]}), {sum(1 for v, _ in vs_ort if v > 1.2)} above 1.2"
            + (f" (each model's numbers: medians over {passes} timing passes)." if (passes := max(r["bench"].get("passes", 1) for r in timed)) > 1 else "."),
            *per_source("mb_us", "ort_us"),
            f"- latency at `opt`, ModelBuild (auto) / TorchScript (TorchSharp jit.load): geometric mean **{geomean([v for v, _ in vs_ts]):.3f}** over {len(vs_ts)} models.",
            f"- load to first result, ModelBuild / ONNX Runtime session: geometric mean **{geomean(load):.2f}** over {len(load)} models, "
            f"{sum(1 for v in load if v <= 1)} at or under 1.",
            *per_source("mb_load_ms", "ort_load_ms"),
        ]
        one_thread = [r["bench"]["ort1_us"] / r["bench"]["ort_us"] for r in timed if "ort1_us" in r["bench"] and "ort_us" in r["bench"]]
        if one_thread:
            lines.append(f"- ONNX Runtime on one intra-op thread / on {int(timed[0]['bench']['threads'])} (the same export): geometric mean "
                         f"**{geomean(one_thread):.2f}** over {len(one_thread)} models, faster on one thread for {sum(1 for v in one_thread if v < 1)}.")
    timing_heads = " | ModelBuild us | ORT us | TorchScript us | MB/ORT | MB/TS | load MB ms | load ORT ms | load TS ms" if timings else ""
    lines += ["", "| model | source | library | family | nodes | " + " | ".join(f"`{b}`" for b in backends) + " | auto candidates at opt (us) | chosen (nodes per block)"
              + timing_heads + " | error |",
              "| --- | --- | --- | --- | ---: | " + " | ".join("---" for _ in backends) + " | --- | --- |" + " ---: |" * (8 if timings else 0) + " --- |"]
    for r in rows:
        b = r.get("bench", {})
        errors = "; ".join(f"{k[6:]}: {v}" for k, v in r.items() if k.startswith("error_") and v)
        errors += "; ".join(f"{k[:-6]}: {v}" for k, v in b.items() if k.endswith("_error"))
        errors += r.get("bench_error", "")
        errors = errors.replace("|", "\\|")
        if len(errors) > 200:
            errors = errors[:197] + "..."
        chosen = f"{r['chosen_auto']} ({r.get('blocks_auto', '')})" if "chosen_auto" in r else ""
        ratio = lambda other: f"{b['mb_us'] / b[other]:.2f}" if "mb_us" in b and other in b else ""  # noqa: E731
        candidates = ", ".join(f"{k} {v:,.0f}" for k, v in r.get("candidates_auto", {}).items())
        timing_cells = (f" | {fmt(b.get('mb_us'))} | {fmt(b.get('ort_us'))} | {fmt(b.get('ts_us'))} | {ratio('ort_us')} | {ratio('ts_us')}"
                        f" | {fmt(b.get('mb_load_ms'), 2)} | {fmt(b.get('ort_load_ms'), 2)} | {fmt(b.get('ts_load_ms'), 2)}") if timings else ""
        lines.append(f"| {r['model']} | {r['source']} | {r['library']} | {r['family']} | {r['nodes'] or ''} | "
                     + " | ".join(cell(r, x) for x in backends) + f" | {candidates} | {chosen}" + timing_cells + f" | {errors} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
