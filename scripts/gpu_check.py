"""The prepared GPU check (docs/performance.md): one command, at most about 8 minutes on an H100/H200, that
measures what only a GPU can tell and writes `<out>/gpu_check.json` and `<out>/gpu_check.md`.

Steps (each skipped with its reason where it cannot run, never replaced by a remembered number):
1. peer      the official code against this suite on the GPU (its side-by-side timing script compare.sh,
             DEVICE=cuda, short), when --peer names a folder that holds it;
2. perf      the perf benchmark's training and generation rows at the paper preset on CUDA;
3. shapes    the fixed-shape path against the packed path: paper-size ARAE losses after 20 iterations;
4. matrix    K = 1 and K = 4 concurrent paper-size ARAE runs on one GPU: iterations per second in all;
5. paths     a paper-size ARAE run of a few hundred steps with fixed shapes on and off: it/s of each.

`--dry-run` checks the arguments and prints the plan without touching a GPU (what CI runs).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
STEPS = ("peer", "perf", "shapes", "matrix", "paths")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/gpu_check.sh", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/gpu_check"), help="folder for the runs and the tables")
    p.add_argument("--data-dir", type=Path, default=None, help="the data folder (default: the suite's, see --help of "
                                                                "run_all.py)")
    p.add_argument("--peer", type=Path, default=None,
                   help="a folder with the official code and its side-by-side timing script compare.sh (without it, "
                        "that step is skipped)")
    p.add_argument("--steps", type=int, default=300, help="training steps of the timed paper-size runs (default 300)")
    p.add_argument("--only", action="append", choices=STEPS, default=None, help="run only this step (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="check the arguments and print the plan; run nothing")
    return p


def _run_all(*args: str, out: Path, data_dir: Path | None) -> list[str]:
    return [PY, str(ROOT / "run_all.py"), *args, "--device", "cuda", "--out", str(out),
            *(["--data-dir", str(data_dir)] if data_dir else [])]


def _short_arae(args, out: Path, *extra: str) -> list[str]:
    return _run_all("-b", "snli_generation", "-r", "arae", "--preset", "paper", "-m", "unique_fraction", "--force",
                    "--set", f"train.steps={args.steps}", "--set", "train.log_every=50",
                    "--set", "train.checkpoint_every=1000000", "--set", "eval.n_samples=1000", *extra,
                    out=out, data_dir=args.data_dir)


def _it_per_s(out: Path) -> list[float]:
    """Training iterations per second of each run under `out` (result.json: sentences/s over the batch size)."""
    rates = []
    for path in sorted(out.glob("*/*/seed*/result.json")):
        result, run = json.loads(path.read_text()), json.loads((path.parent / "run.json").read_text())
        rates.append(result["timing"]["train_sentences_per_sec"] / run["config"]["train"]["batch_size"])
    return rates


def plan(args) -> dict[str, list[list[str]] | str]:
    """Each step's commands, or the reason it is skipped."""
    steps: dict[str, list[list[str]] | str] = {}
    compare = args.peer / "compare.sh" if args.peer else None
    steps["peer"] = ([["bash", str(compare)]] if compare and compare.is_file() else
                     f"no compare.sh in {args.peer}" if compare else "no --peer folder given")
    steps["perf"] = [_run_all("-b", "perf", "--preset", "paper", "-r", "train_arae", "-r", "train_ae", "-r", "generation",
                              out=args.out / "perf", data_dir=args.data_dir)]
    steps["shapes"] = [[PY, str(Path(__file__)), "--shapes-only", "--out", str(args.out),
                        *(["--data-dir", str(args.data_dir)] if args.data_dir else [])]]
    steps["matrix"] = [_short_arae(args, args.out / f"matrix_k{k}", "--seeds", str(k), "--launcher", "local",
                                   "--jobs", str(k), "--runs-per-gpu", str(k)) for k in (1, 4)]
    steps["paths"] = [_short_arae(args, args.out / f"fixed_{flag}", "--set", f"train.fixed_shapes={flag}")
                      for flag in ("true", "false")]
    return {k: v for k, v in steps.items() if not args.only or k in args.only}


def shapes_check(out: Path, data_dir: Path | None) -> dict:
    """Paper-size ARAE on CUDA, fixed shapes against packed, same seed and batches: losses after 20 iterations."""
    import torch

    import baselines  # noqa: F401
    import benchmarks  # noqa: F401
    from arae.benchmark import BENCHMARKS
    from arae.config import deep_merge
    from arae.data import resolve_data_dir
    from arae.runner import load_corpus
    from arae.tasks.base import build_method

    spec, device = BENCHMARKS.get("snli_generation"), torch.device("cuda")
    base = spec.presets["paper"].config
    corpus, _ = load_corpus(base, resolve_data_dir(data_dir))
    losses = {}
    for flag in (False, True):
        torch.manual_seed(0)
        cfg = deep_merge(base, {"train": {"fixed_shapes": flag}})
        _, batcher, method = build_method(cfg, "arae", corpus.train, 1, device)
        for step in range(20):
            values = method.train_step(step, batcher)
        losses["fixed" if flag else "packed"] = {k: float(v) for k, v in values.items()}
    worst = max(abs(losses["fixed"][k] - losses["packed"][k]) / max(abs(losses["packed"][k]), 1e-6)
                for k in losses["packed"])
    return {"losses_after_20": losses, "largest_relative_difference": worst}


def main(argv: list[str] | None = None) -> int:
    if argv and "--shapes-only" in argv:
        rest = [a for a in argv if a != "--shapes-only"]
        args = _parser().parse_args(rest)
        result = shapes_check(args.out, args.data_dir)
        (args.out / "shapes.json").write_text(json.dumps(result, indent=1))
        return 0
    args = _parser().parse_args(argv)
    if args.steps < 20:
        print("gpu_check: --steps must be at least 20", file=sys.stderr)
        return 2
    if args.data_dir and not args.data_dir.is_dir():
        print(f"gpu_check: --data-dir {args.data_dir} is not a folder", file=sys.stderr)
        return 2
    steps = plan(args)
    for name, commands in steps.items():
        if isinstance(commands, str):
            print(f"[{name}] skipped: {commands}")
        for command in commands if not isinstance(commands, str) else []:
            print(f"[{name}] {' '.join(command)}")
    if args.dry_run:  # every planned suite command must parse, so a lent GPU's minutes are not lost to a typo
        sys.path.insert(0, str(ROOT))
        from arae.cli import build_parser
        for commands in (c for c in steps.values() if not isinstance(c, str)):
            for command in (c for c in commands if c[1].endswith("run_all.py")):
                build_parser().parse_args(command[2:])
        return 0
    import torch
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here (use --dry-run to check the plan)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DEVICE="cuda", ITERS="200", WARMUP="20", ROUNDS="1", GEN="20000",
               OUT=str(args.out / "peer"))
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "gpu": torch.cuda.get_device_name(0),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True).stdout.strip(), "steps": {}}
    for name, commands in steps.items():
        if isinstance(commands, str):
            report["steps"][name] = {"skipped": commands}
            continue
        began, outcome = time.perf_counter(), {}
        for command in commands:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode:
                outcome = {"failed": f"exit {done.returncode}: {(done.stderr or done.stdout)[-600:]}"}
                break
        outcome["seconds"] = round(time.perf_counter() - began, 1)
        if "failed" not in outcome:
            outcome |= _measured(name, args)
        report["steps"][name] = outcome
        print(f"[{name}] {json.dumps(outcome)[:300]}", flush=True)
    (args.out / "gpu_check.json").write_text(json.dumps(report, indent=1))
    (args.out / "gpu_check.md").write_text(_markdown(report))
    print(f"written: {args.out / 'gpu_check.json'}, {args.out / 'gpu_check.md'}")
    return 1 if any("failed" in s for s in report["steps"].values()) else 0


def _measured(name: str, args) -> dict:
    if name == "peer":
        table = args.out / "peer" / "table.txt"
        return {"table": table.read_text() if table.exists() else "no table written"}
    if name == "perf":
        found = {}
        for path in sorted((args.out / "perf").glob("perf/*/seed*/result.json")):
            metrics = json.loads(path.read_text())["metrics"]
            found[path.parent.parent.name] = {k: m["value"] for k, m in metrics.items()}
        return {"rows": found}
    if name == "shapes":
        return json.loads((args.out / "shapes.json").read_text())
    if name == "matrix":
        rates = {k: _it_per_s(args.out / f"matrix_k{k}") for k in (1, 4)}
        return {f"k{k}": {"it_per_s_each": each, "it_per_s_total": sum(each)} for k, each in rates.items()}
    return {f"fixed_shapes_{flag}": _it_per_s(args.out / f"fixed_{flag}") for flag in ("true", "false")}


def _markdown(report: dict) -> str:
    lines = [f"GPU check: {report['gpu']}, commit {report['commit']}, {report['date'][:10]}", "",
             "| step | seconds | result |", "|---|--:|---|"]
    for name, outcome in report["steps"].items():
        shown = {k: v for k, v in outcome.items() if k not in ("seconds", "table")}
        lines.append(f"| {name} | {outcome.get('seconds', '—')} | {json.dumps(shown)[:400].replace('|', '/')} |")
    if "table" in report["steps"].get("peer", {}):
        lines += ["", "compare.sh (DEVICE=cuda):", "", "```", report["steps"]["peer"]["table"].strip(), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
