"""Runs ModelBuild on a CUDA machine and PyTorch beside it, in one call (see docs/benchmarks.md, "CUDA (H200)").

For every variant (fixture, model file, precision): `modelc compile --device cuda` (wall time of the process),
`modelc verify --cases` on CUDA, and `modelc bench` at the opt case. Then PyTorch's anchors (eager and torch.compile
on cuda) on the same fixtures. Results go to OUT as JSON lines as they come, so a run cut short still reports.

Usage (on the GPU machine, from the repository root, after eng/gpu/pack.sh packed .gpu/ here, this script included):
  /opt/torch/.venv/bin/python3 .gpu/cuda_bench.py --pack .gpu --out "$OUT" --deadline-s 540
"""
import argparse, json, os, subprocess, sys, tarfile, time, shutil

SITE = "/opt/torch/.venv/lib/python3.12/site-packages"
TORCH_LIB = f"{SITE}/torch/lib"
NVIDIA = f"{SITE}/nvidia"
LIBRARY_PATH = ":".join([TORCH_LIB] + [f"{NVIDIA}/{p}/lib" for p in ("cu13", "cudnn", "cusparselt", "nccl", "nvshmem")])

# (fixture, file, precision); public fixtures at fp32, the reduced precisions and the extra fixtures on top.
PUBLIC = ["conv1d_stride", "mlp", "multi_io", "ops_mix", "seed_linear_dynamic", "seed_linear_static", "small_cnn", "transformer_block"]
VARIANTS = [(m, "model.pt2", "fp32") for m in PUBLIC] + [
    ("resnet_tiny", "model.pt2", "fp32"),
    ("resnet_tiny", "model.core.pt2", "fp32"),
    ("mobilenet_v3_tiny", "model.core.pt2", "fp32"),
    ("efficientnet_tiny", "model.core.pt2", "fp32"),
    ("mobilenet_v3_tiny", "model.pt2", "fp32"),
    ("efficientnet_tiny", "model.pt2", "fp32"),
    ("gpt2_tiny", "model.pt2", "fp32"),
    ("bert_tiny", "model.pt2", "fp32"),
    ("bert_tiny", "model.core.pt2", "fp32"),
    ("lstm", "model.pt2", "fp32"),
    ("gru", "model.core.pt2", "fp32"),
    ("mlp", "model.pt2", "fp16"),
    ("small_cnn", "model.pt2", "fp16"),
    ("transformer_block", "model.pt2", "fp16"),
    ("transformer_block", "model.pt2", "bf16"),
    ("resnet_tiny", "model.core.pt2", "fp16"),
    ("gpt2_tiny", "model.pt2", "bf16"),
]
EXTRA = sorted({v[0] for v in VARIANTS} - set(PUBLIC))


def run(cmd, env, timeout):
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0
    except subprocess.TimeoutExpired as e:
        return 124, e.stdout or "", f"timed out after {timeout} s", time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default=".gpu", help="the folder eng/gpu/pack.sh wrote")
    ap.add_argument("--work", default="/tmp/mb")
    ap.add_argument("--library-path", default=LIBRARY_PATH)
    ap.add_argument("--out", default=os.environ.get("OUT", "out"))
    ap.add_argument("--deadline-s", type=float, default=540, help="stop starting work after this many seconds")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--device", default="cuda", help="cpu tries the same flow on a machine without a GPU")
    ap.add_argument("--only", help="comma-separated fixtures to run (default: all variants)")
    ap.add_argument("--anchors-only", help="comma-separated fixtures for PyTorch's anchors (default: all copied)")
    ap.add_argument("--anchors-cases", default="opt", help="comma-separated cases for PyTorch's anchors")
    ap.add_argument("--bench-cases", default="opt", help="comma-separated cases to time (opt, max, ...)")
    a = ap.parse_args()
    start = time.perf_counter()
    left = lambda: a.deadline_s - (time.perf_counter() - start)
    os.makedirs(a.out, exist_ok=True)
    shutil.rmtree(a.work, ignore_errors=True)
    fx, engines = f"{a.work}/fixtures", f"{a.work}/engines"
    for d in (fx, engines):
        os.makedirs(d)
    with tarfile.open(f"{a.pack}/modelc.tar.xz") as t:
        t.extractall(a.work, filter="fully_trusted")
    with tarfile.open(f"{a.pack}/fixtures.tar.xz") as t:
        t.extractall(fx, filter="data")
    for m in EXTRA:
        shutil.copytree(f"tests/fixtures/extra/{m}", f"{fx}/{m}")
    modelc = f"{a.work}/modelc/modelc"
    env = dict(os.environ, LD_LIBRARY_PATH=a.library_path, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
    log = open(f"{a.out}/modelc.log", "w")
    results = open(f"{a.out}/results.jsonl", "w")

    def logged(cmd, e=env, timeout=150):
        rc, out, err, secs = run(cmd, e, timeout)
        log.write(f"$ {' '.join(cmd)}\n# rc={rc} {secs:.2f}s\n{out}{err}\n")
        log.flush()
        return rc, out, err, secs

    for model, file, precision in VARIANTS:
        if a.only and model not in a.only.split(","):
            continue
        if left() < 60:
            break
        tag = f"{model}.{file.replace('.pt2', '')}.{precision}"
        engine = f"{engines}/{tag}.engine"
        cases = f"{fx}/{model}/cases.safetensors"
        row = {"model": model, "file": file, "precision": precision, "device": a.device}
        rc, out, err, secs = logged([modelc, "compile", f"{fx}/{model}/{file}", "-o", engine, "--device", a.device,
                                     "--precision", precision, "--name", model])
        row.update(compile_rc=rc, compile_s=round(secs, 3))
        if rc != 0:
            row["compile_error"] = (err or out).strip().splitlines()[-1:] if (err or out).strip() else ["(no output)"]
        else:
            row["validated"] = [l.strip() for l in out.splitlines() if "validated" in l]
            rc, out, err, _ = logged([modelc, "verify", engine, "--cases", cases])
            row.update(verify_rc=rc, verify=out.strip().splitlines()[-1] if out.strip() else err.strip()[-300:])
            for case in a.bench_cases.split(","):
                bench_json = f"{engines}/{tag}.{case}.bench.json"
                rc, out, err, _ = logged([modelc, "bench", engine, "--cases", cases, "--case", case,
                                          "--warmup", "20", "--iterations", "300", "--json", bench_json])
                key = "bench" if case == "opt" else f"bench_{case}"
                if rc == 0:
                    row[key] = json.load(open(bench_json))
                else:
                    row[f"{key}_error"] = (err or out).strip()[-300:]
        results.write(json.dumps(row) + "\n")
        results.flush()
        print(json.dumps(row), flush=True)

    # Does modelc find the CUDA libraries with only torch/lib on the path (what MODELBUILD_LIBTORCH_DIR gives)?
    probe = f"{engines}/mlp.model.fp32.engine"
    if os.path.exists(probe):
        rc, out, err, _ = logged([modelc, "verify", probe, "--cases", f"{fx}/mlp/cases.safetensors"],
                                 dict(env, LD_LIBRARY_PATH=TORCH_LIB))
        results.write(json.dumps({"probe": "LD_LIBRARY_PATH=torch/lib only", "rc": rc, "last": (out or err).strip()[-300:]}) + "\n")
        rc, out, err, _ = logged([modelc, "inspect", probe])
        results.write(json.dumps({"probe": "inspect cuda engine", "rc": rc, "target": [l for l in out.splitlines() if "target" in l]}) + "\n")
        results.flush()

    if not a.no_anchors and left() > 30:
        root = fx
        if a.anchors_only:
            root = f"{a.work}/anchor-fixtures"
            os.makedirs(root)
            for m in a.anchors_only.split(","):
                os.symlink(f"{fx}/{m}", f"{root}/{m}")
        for case in a.anchors_cases.split(","):
            if left() < 30:
                break
            anchors = open(f"{a.out}/anchors.jsonl" if case == "opt" else f"{a.out}/anchors.{case}.jsonl", "w")
            cmd = [sys.executable, f"{a.pack}/anchors.py", root, "--devices", "cuda", "--threads", "16", "--case", case]
            try:
                subprocess.run(cmd, stdout=anchors, stderr=log, timeout=left(), env=dict(os.environ, PYTHONUNBUFFERED="1"))
            except subprocess.TimeoutExpired:
                log.write(f"anchors.py --case {case}: cut short at the deadline\n")
    log.close()


if __name__ == "__main__":
    main()
