"""ModelBuild's CUDA engines with and without CUDA graphs beside PyTorch eager and torch.compile(mode="reduce-overhead"),
on one H200 in one device call (docs/benchmarks.md, "CUDA graphs (H200)").

Phase 1, machine busy: `modelc compile --device cuda --cases` of every model (fp32; fp16 and bf16 for FP16_MODELS;
compiling validates the engine, CUDA graphs on, at min/opt/max against the reference and at every case against
PyTorch's outputs) and `modelc verify` of every fp32 engine (graphs on, notes printed), while anchors_cuda.py --warm
processes fill Inductor's caches.
Phase 2, machine quiet: `modelc bench --case opt,max --cuda-graphs both` per fp32 engine (one process each), the same
with graphs for the fp16/bf16 engines, then anchors_cuda.py times PyTorch on the same cases (compiling from cache).
Writes OUT/results.jsonl: one object per model with model, nodes, mb_graphs_opt_us, mb_eager_opt_us, eager_opt_us,
ro_opt_us and the max equivalents (plus verify results, notes, fp16/bf16 timings); OUT/log.txt has every command.

--verify-only: every model at fp32, fp16 and bf16, each engine verified with graphs on; no timing, no anchors.

Usage (on the GPU machine, repository root, after eng/gpu/pack.sh filled .gpu/):
  /opt/torch/.venv/bin/python3 eng/gpu/cudagraph_bench.py --pack .gpu --out "$OUT" --deadline-s 560
"""
import argparse
import concurrent.futures
import glob
import json
import os
import subprocess
import sys
import tarfile
import threading
import time

SITE = "/opt/torch/.venv/lib/python3.12/site-packages"
LIBRARY_PATH = ":".join([f"{SITE}/torch/lib"] + [f"{SITE}/nvidia/{p}/lib" for p in ("cu13", "cudnn", "cusparselt", "nccl", "nvshmem")])
FP16_MODELS = {"small_cnn", "timm_resnet18d", "tv_resnet_basic", "timm_vit", "resnet50"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default=".gpu")
    ap.add_argument("--work", default="/tmp/mbcg")
    ap.add_argument("--out", default=os.environ.get("OUT", "out"))
    ap.add_argument("--deadline-s", type=float, default=560)
    ap.add_argument("--only", help="comma-separated models")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--extra", help="a folder of more model folders made on the machine (eng/gpu/make_convheavy.py)")
    ap.add_argument("--verify-only", action="store_true",
                    help="compile every model at fp32, fp16 and bf16 and verify every engine (graphs on); no timing")
    ap.add_argument("--jobs", type=int, default=6, help="models built side by side with --verify-only")
    a = ap.parse_args()
    start = time.perf_counter()
    left = lambda: a.deadline_s - (time.perf_counter() - start)  # noqa: E731
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.work, exist_ok=True)
    for name in ("modelc.tar.xz", "models.tar.xz"):
        with tarfile.open(f"{a.pack}/{name}") as t:
            t.extractall(a.work, filter="fully_trusted")
    models = sorted(glob.glob("tests/fixtures/public/*/")) + sorted(glob.glob(f"{a.work}/models/*/"))
    if a.extra:
        models += sorted(glob.glob(f"{a.extra}/*/"))
    if a.only:
        models = [m for m in models if os.path.basename(m.rstrip("/")) in a.only.split(",")]
    names = [os.path.basename(m.rstrip("/")) for m in models]
    modelc = f"{a.work}/modelc/modelc"
    env = dict(os.environ, LD_LIBRARY_PATH=LIBRARY_PATH, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
    log = open(f"{a.out}/log.txt", "w")
    log_lock = threading.Lock()

    def run(cmd, timeout=180):
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = 124, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), f"timed out after {timeout} s"
        with log_lock:
            log.write(f"$ {' '.join(cmd)}\n# rc={rc} {time.perf_counter() - t0:.1f}s\n{out}{err}\n")
            log.flush()
        return rc, out, err

    rows = {n: {"model": n, "nodes": json.load(open(f"{m}/fixture.json")).get("nodes")} for n, m in zip(names, models)}

    # Phase 1: warm Inductor in the background while engines compile and verify.
    warm = []
    if not a.no_anchors and not a.verify_only:
        shards = 6
        for k in range(shards):
            warm.append(subprocess.Popen([sys.executable, "eng/gpu/anchors_cuda.py", *models, "--warm", "--shard", f"{k}/{shards}",
                                          "--budget-s", str(max(60, left() - 330))],
                                         stdout=open(f"{a.work}/warm{k}.log", "w"), stderr=subprocess.STDOUT,
                                         env=dict(os.environ, PYTHONUNBUFFERED="1")))
    engines = []

    def build(name, model):
        for precision in ["fp32"] + (["fp16", "bf16"] if name in FP16_MODELS or a.verify_only else []):
            if left() < (30 if a.verify_only else 240):
                break
            engine = f"{a.work}/{name}.{precision}.engine"
            rc, out, err = run([modelc, "compile", f"{model}/model.pt2", "-o", engine, "--device", "cuda", "--precision", precision,
                                "--backend", "torch", "--name", name, "--cases", f"{model}/cases.safetensors"])
            key = "" if precision == "fp32" else f"_{precision}"
            if rc != 0:
                rows[name][f"compile{key}_error"] = (err or out).strip().splitlines()[-1][:400] if (err or out).strip() else "(no output)"
                continue
            rows[name][f"validated{key}"] = sum(1 for l in out.splitlines() if "validated" in l)
            engines.append((name, model, precision, engine))
            if precision == "fp32" or a.verify_only:
                rc, out, err = run([modelc, "verify", engine, "--cases", f"{model}/cases.safetensors"])
                lines = out.strip().splitlines()
                rows[name][f"verify{key}"] = lines[-1] if lines else err.strip()[-300:]
                rows[name][f"verify{key}_notes"] = [l[5:] for l in lines if l.startswith("note ")]

    # Verifying only, models build side by side (the GPU and 16 cores have room); timing runs build one at a time.
    with concurrent.futures.ThreadPoolExecutor(a.jobs if a.verify_only else 1) as pool:
        list(pool.map(lambda nm: build(*nm), zip(names, models)))
    for p in warm:
        try:
            p.wait(timeout=max(1, left() - 200))
        except subprocess.TimeoutExpired:
            p.kill()

    # Phase 2: timing, one thing at a time.
    for name, model, precision, engine in [] if a.verify_only else engines:
        if left() < 90:
            break
        bench_json = f"{engine}.bench.json"
        graphs = "both" if precision == "fp32" else "on"
        rc, out, err = run([modelc, "bench", engine, "--cases", f"{model}/cases.safetensors", "--case", "opt,max", "--cuda-graphs", graphs,
                            "--warmup", "20", "--iterations", "200", "--json", bench_json])
        if rc != 0:
            rows[name][f"bench_{precision}_error"] = (err or out).strip()[-300:]
            continue
        bench = json.load(open(bench_json))
        for r in bench["results"]:
            mode = "graphs" if r["cudaGraphs"] else "eager"
            suffix = "" if precision == "fp32" else f"_{precision}"
            rows[name][f"mb_{mode}_{r['case']}_us{suffix}"] = round(r["medianUs"], 1)
            rows[name][f"mb_{mode}_{r['case']}_first_ms{suffix}"] = round(r["firstRunMs"], 2)
            if r["notes"]:
                rows[name][f"notes{suffix}"] = r["notes"]
        rows[name][f"load_ms{'' if precision == 'fp32' else '_' + precision}"] = round(bench["results"][0]["loadMs"], 1)
    if not a.no_anchors and not a.verify_only and left() > 30:
        anchors = f"{a.work}/anchors.jsonl"
        try:
            subprocess.run([sys.executable, "eng/gpu/anchors_cuda.py", *models, "--json", anchors, "--budget-s", str(left() - 20)],
                           stdout=log, stderr=subprocess.STDOUT, timeout=left() - 5, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        except subprocess.TimeoutExpired:
            log.write("anchors: cut short at the deadline\n")
        if os.path.exists(anchors):
            for line in open(anchors):
                r = json.loads(line)
                if r.get("model") in rows:
                    rows[r["model"]].update({k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items() if k != "model"})
    with open(f"{a.out}/results.jsonl", "w") as f:
        for n in names:
            f.write(json.dumps(rows[n]) + "\n")
    print(open(f"{a.out}/results.jsonl").read())
    log.close()


if __name__ == "__main__":
    main()
