"""Prints a short summary of a generate.sh run: what each generator made and how large it is.
Usage: python3 summarize.py RESULTS_DIR [EXIT_FILE]   (pure Python: no torch needed)"""
import json
import os
import sys


def size_mib(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total / 2**20


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fixture_dirs(path):
    return sorted(d for d in os.listdir(path) if os.path.exists(os.path.join(path, d, "fixture.json"))) \
        if os.path.isdir(path) else []


def main():
    res = sys.argv[1]
    lines = []
    for suite in ("public", "extra", "hop"):
        path = os.path.join(res, suite)
        names = fixture_dirs(path)
        missing = [n for n in names if (load(os.path.join(path, n, "fixture.json")) or {}).get("expected_ops_missing")]
        lines.append(f"{suite:9s} {len(names):3d} fixtures, {size_mib(path):6.1f} MiB"
                     + (f"; expected ops missing in {missing}" if missing else ""))
    ops = load(os.path.join(res, "ops", "index.json"))
    if ops:
        s = ops["stats"]
        lines.append(f"ops       {s['programs_kept']:3d} programs kept of {s['programs_exported']} exported, core ops "
                     f"covered {s['core_ops_covered']}/{s['core_ops']}, tasks {s['tasks_done']}/"
                     f"{s['opinfos'] + s['direct']}, {size_mib(os.path.join(res, 'ops')):6.1f} MiB")
    else:
        lines.append("ops       no index.json")
    db = load(os.path.join(res, "exportdb", "index.json"))
    if db:
        ex = db["examples"]
        lines.append(f"exportdb  {sum(e['status'] == 'exported' for e in ex):3d}/{len(ex)} examples exported, "
                     f"{size_mib(os.path.join(res, 'exportdb')):6.1f} MiB")
    else:
        lines.append("exportdb  no index.json")
    zoo = load(os.path.join(res, "zoo", "index.json"))
    if zoo:
        models = zoo["models"]
        ok = [m for m in models if m.get("status") == "ok"]
        dyn = {}
        for m in ok:
            dyn[m.get("dynamic", "?")] = dyn.get(m.get("dynamic", "?"), 0) + 1
        lines.append(f"zoo       {len(ok):3d}/{len(models)} models built (dynamic: {dyn}), "
                     f"{size_mib(os.path.join(res, 'zoo')):6.1f} MiB")
        for m in models:
            if m.get("status") != "ok":
                lines.append(f"  zoo {m['name']}: {m.get('status', 'missing')}: {str(m.get('reason', ''))[:160]}")
    else:
        lines.append("zoo       no index.json")
    if len(sys.argv) > 2 and os.path.exists(sys.argv[2]):
        with open(sys.argv[2]) as f:
            lines += [f"exit      {line.strip()}" for line in f]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
