"""`python run_all.py`: regenerate the paper's tables (train, sample, score, report)."""
from __future__ import annotations

import argparse
import contextlib
import fnmatch
import shlex
import signal
import sys
import time
from pathlib import Path

import torch

from arae.benchmark import BENCHMARKS, BenchmarkSpec
from arae.errors import ConfigError, SuiteError
from arae.eta import Eta, load_recorded, run_key
from arae.io import atomic_write_json, read_json

PRESETS = ("smoke", "small", "paper")
OUTCOME_NOTES = {"skipped": "already done", "locked": "being run by another process; skipped here"}


def build_parser(prog: str = "run_all.py") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description=__doc__ + "\nTo score transfers someone made without running anything: "
                                         "python -m arae score --help.",
        epilog="Examples:\n  python run_all.py --preset smoke\n"
               "  python run_all.py -b snli_generation --preset small --seeds 3 --out runs/small\n"
               "  python run_all.py -b snli_generation --set train.steps=500 --set data=~/my_corpus\n"
               "  python run_all.py --report-only --out runs/small\n"
               "  python -m arae score yelp --outputs neg2pos.txt pos2neg.txt   (score any system's transfers)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list", action="store_true", help="list the benchmarks (name and title) and exit")
    p.add_argument("-b", "--benchmark", action="append", metavar="NAME",
                   help="benchmark name or glob, repeatable (default: all)")
    p.add_argument("-r", "--row", action="append", metavar="ROW",
                   help="only these rows of the selected benchmarks, repeatable (default: all rows)")
    p.add_argument("-m", "--metric", action="append", metavar="NAME",
                   help="only the metrics of the selected benchmarks matching NAME (a glob, e.g. '*.rnnlm' or "
                        "reverse_ppl.kenlm), repeatable (default: all); benchmarks with no such metric are left out. "
                        "A different selection is a different run: it reuses the trained models, but draws its "
                        "samples and computes its metrics again")
    p.add_argument("--preset", choices=PRESETS, default="smoke",
                   help="smoke: CPU minutes, plumbing check; small: CPU-sized, meaningful; paper: the paper's "
                        "data and settings, for a GPU (default: smoke)")
    p.add_argument("--seeds", type=int, metavar="N", help="seeds per row (default: the preset's)")
    p.add_argument("--out", type=Path, default=Path("runs"), help="output folder (default: runs/)")
    p.add_argument("--data-dir", help="folder with the datasets (default: $ARAE_DATA_DIR, else ~/.cache/arae/data)")
    p.add_argument("--download", metavar="DATASET", action="append",
                   help="download a dataset into the data folder first, verified by sha256: snli, yelp_shen, "
                        "yelp_references, yelp_published, mnist, or all (every one of them); repeatable. Files already there "
                        "and intact are kept; network errors are retried")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="default: cuda if available")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value for every selected run, e.g. train.steps=200; "
                        "data=PATH trains on your own folder: train.txt/valid.txt/test.txt for generation, "
                        "one <style>.txt per style for yelp_transfer, SNLI's layout (s1/s2/labels.{dev,test}, or "
                        "snli_1.0_*.jsonl) for snli_semisup")
    p.add_argument("--outputs", action="append", default=[], metavar="NAME=DIR[:COLUMN]",
                   help="score transfers someone made as row NAME of every transfer benchmark, training nothing: DIR "
                        "holds <source>-to-<target>.txt per direction (test.0.tsf and test.1.tsf for two styles), "
                        "line i the transfer of test sentence i; :COLUMN keeps that tab-separated column of "
                        "two-column files (source<TAB>transfer: 2)")
    p.add_argument("--force", action="store_true", help="re-run runs that are finished or have checkpoints")
    launch = p.add_argument_group("launching runs (docs/cluster.md)")
    launch.add_argument("--launcher", choices=("inline", "local", "slurm"), default="inline",
                        help="inline: one run after another in this process (default); local: up to --jobs runs "
                             "at once as subprocesses (one per GPU with several GPUs); slurm: one Slurm job per run")
    launch.add_argument("--jobs", type=int, default=1, metavar="N", help="local: runs at once (default 1)")
    launch.add_argument("--runs-per-gpu", type=int, default=None, metavar="K",
                        help="local, on GPUs: at most K runs share a GPU (default: no limit but --jobs; runs go to "
                             "the GPU that holds the fewest)")
    launch.add_argument("--no-wait", action="store_true", help="slurm: submit and return (then use --collect)")
    launch.add_argument("--collect", action="store_true",
                        help="render the report from the finished runs of --out and list the runs still pending or "
                             "failed, with their job ids and logs")
    launch.add_argument("--slurm-partition", metavar="NAME", help="slurm: the partition")
    launch.add_argument("--gpus-per-job", type=int, default=1, metavar="N", help="slurm: GPUs per job (default 1)")
    launch.add_argument("--cpus-per-job", type=int, metavar="N",
                        help="slurm: CPUs reserved per job (default: the runs' `threads` setting, 1 unless --set "
                             "threads=N). A run computes with its own `threads` whatever the launcher, so its "
                             "numbers do not depend on how it was launched")
    launch.add_argument("--timeout-min", type=int, default=24 * 60, metavar="MIN",
                        help="a job's time limit in minutes (default 1440); on Slurm a job that reaches it is "
                             "requeued and resumes from its checkpoint")
    launch.add_argument("--array-parallelism", type=int, default=64, metavar="N",
                        help="slurm: jobs of the array running at once (default 64)")
    launch.add_argument("--slurm-set", action="append", default=[], metavar="KEY=VALUE",
                        help="slurm: any other submitit SlurmExecutor parameter, e.g. account=abc, mem=32G, "
                             "constraint=a100, qos=high; repeatable")
    p.add_argument("--report-only", action="store_true", help="only rebuild summary.csv and the report from the records")
    p.add_argument("--readme", type=Path, metavar="FILE",
                   help="with --report-only: write the results of --out into FILE between the markers "
                        "<!-- results:NAME --> and <!-- /results:NAME --> (NAME: the --out folder's name); with "
                        "--list: write the table of the benchmarks between <!-- benchmarks --> and <!-- /benchmarks -->, "
                        "and, between <!-- verdicts --> and <!-- /verdicts --> where FILE has them, the latest verdict "
                        "of each paper claim as the results blocks of docs/benchmarks/<benchmark>.md beside FILE state it")
    return p


def select(patterns: list[str] | None) -> list[BenchmarkSpec]:
    names = BENCHMARKS.names()
    if not patterns:
        return [BENCHMARKS.get(n) for n in names]
    chosen = []
    for pattern in patterns:
        matched = fnmatch.filter(names, pattern) if any(c in pattern for c in "*?[") else [pattern]
        if not matched:
            raise ConfigError(f"no benchmark matches {pattern!r} (known: {', '.join(names)})")
        chosen += [BENCHMARKS.get(n) for n in matched if BENCHMARKS.get(n) not in chosen]
    return chosen


def write_report(out: Path) -> None:
    from reports.render import render_report
    folder = render_report(out)  # also refreshes summary.csv from the same scan of the records
    print(f"report: {folder / 'index.html'} and {folder / 'summary.md'}; table: {out / 'summary.csv'}", file=sys.stderr)


def _execute(plan, data_dir: Path, device: torch.device, force: bool) -> str:
    """One run, with a line saying what became of it; a run that fails never stops the others."""
    from arae.runner import execute
    try:
        outcome = execute(plan, data_dir, device, force=force)
    except OSError as err:  # e.g. a full disk: even the failure could not be recorded
        print(f"[{plan.name}] FAILED: could not write its records: {err}", file=sys.stderr)
        return "failed"
    if outcome == "failed":
        print(f"[{plan.name}] FAILED: {read_json(plan.dir / 'status.json')['error']}", file=sys.stderr)
    elif outcome in OUTCOME_NOTES:
        print(f"[{plan.name}] {OUTCOME_NOTES[outcome]}", file=sys.stderr)
    return outcome


def benchmark_table() -> str:
    """The registered benchmarks as a markdown table (the README's, generated with --list --readme)."""
    lines = ["| benchmark | paper | task | rows | metrics |", "|---|---|---|---|---|"]
    for name in BENCHMARKS.names():
        spec = BENCHMARKS.get(name)
        extra = [f"`{row.name}` in `{preset}`" for preset, p in spec.presets.items() for row in p.extra_rows]
        rows = ", ".join(f"`{row.name}`" for row in spec.rows) + (f" (+ {', '.join(extra)})" if extra else "")
        metrics = ", ".join(_grouped(m.recorded_name({}) for m in spec.metrics)) or "its own measurements"
        lines.append(f"| `{name}`: {spec.title} | {spec.paper_ref} | {spec.task.name} | {rows} | {metrics} |")
    return "\n".join(lines)


def metric_names_of(plans, spec: BenchmarkSpec) -> dict[str, str]:
    """Every metric a benchmark's runs compute (a row may compute only its own subset), key -> recorded name."""
    names: dict[str, str] = {}
    for plan in plans:
        if plan.spec is spec:
            names |= plan.metric_names
    return names


def _grouped(names) -> list[str]:
    """Metric names with their @ params gathered: `swap_nll@{0,1,2}` for swap_nll@0, swap_nll@1, swap_nll@2."""
    params: dict[str, list[str]] = {}
    for name in names:
        base, at, param = name.partition("@")
        params.setdefault(base, []).extend([param] if at else [])
    return [f"`{base}@{{{','.join(ps)}}}`" if len(ps) > 1 else f"`{base}{'@' + ps[0] if ps else ''}`"
            for base, ps in params.items()]


def run(args: argparse.Namespace) -> int:
    import baselines  # noqa: F401  (registers the baselines)
    import benchmarks  # noqa: F401  (registers the benchmark specs)
    from arae.data import resolve_data_dir
    from arae.data.sources import download_datasets
    from arae.metrics.ngram_lm import find_lmplz
    from arae.runner import load_corpus, plan_runs, resolve_device, with_given_rows, with_metrics
    from arae.tasks.base import read_status

    if args.list:
        if args.readme:
            from reports.readme import replace_block, verdicts_markdown
            replace_block(args.readme, "benchmarks", benchmark_table())
            print(f"{args.readme}: the table of the {len(BENCHMARKS.names())} benchmarks written", file=sys.stderr)
            if "<!-- verdicts -->" in args.readme.read_text(encoding="utf-8"):
                claims = [(name, c.text) for name in BENCHMARKS.names() for c in BENCHMARKS.get(name).claims]
                replace_block(args.readme, "verdicts", verdicts_markdown(
                    claims, args.readme.parent / "docs" / "benchmarks", "docs/benchmarks/"))
                print(f"{args.readme}: the latest verdict of {len(claims)} paper claims written", file=sys.stderr)
            return 0
        for name in BENCHMARKS.names():
            print(f"{name}\t{BENCHMARKS.get(name).title}")
        return 0
    if args.collect:
        from arae.launch import collect
        if not any(args.out.glob("*/benchmark.json")):
            raise ConfigError(f"--collect: no benchmark results in {args.out} (launch a benchmark first, or pass --out)")
        write_report(args.out)
        unfinished = collect(args.out)
        print(f"{unfinished} run(s) not done yet" if unfinished else "every run is done", file=sys.stderr)
        return 0
    if args.report_only:
        if not any(args.out.glob("*/benchmark.json")):
            raise ConfigError(f"--report-only: no benchmark results in {args.out} (run a benchmark first, or pass --out)")
        write_report(args.out)
        if args.readme:
            from reports.readme import update_readme
            update_readme(args.readme, args.out)
            print(f"{args.readme}: results of {args.out} written", file=sys.stderr)
        return 0
    if args.readme:
        raise ConfigError("--readme works with --report-only (results) or --list (the benchmark table)")
    if args.seeds is not None and args.seeds < 1:
        raise ConfigError("--seeds must be at least 1")
    if args.jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    if args.runs_per_gpu is not None and args.runs_per_gpu < 1:
        raise ConfigError("--runs-per-gpu must be at least 1")
    if args.no_wait and args.launcher != "slurm":
        raise ConfigError("--no-wait works with --launcher slurm: local jobs are started N at a time by this process")
    data_dir = resolve_data_dir(args.data_dir)
    download_datasets(args.download or [], data_dir)
    specs = with_given_rows(with_metrics(select(args.benchmark), args.metric), args.outputs)
    device = resolve_device(args.device) if args.launcher != "slurm" else None  # Slurm jobs resolve it on their node
    if any(spec.needs_lmplz for spec in specs):
        find_lmplz()  # say so now, not after hours of training
    plans = plan_runs(specs, args.preset, args.seeds, args.out, args.overrides, data_dir, args.row, args.metric)
    substitutes = set()
    for spec in specs:
        first = next(p for p in plans if p.spec is spec)
        data = load_corpus(first.config, data_dir)[0].description
        atomic_write_json(args.out / spec.name / "benchmark.json",
                          {**spec.record(args.preset, metric_names_of(plans, spec), data), "command": args.command})
        if data.get("substitute") and data["substitute"] not in substitutes:
            substitutes.add(data["substitute"])
            print(f"data: {data['substitute']}. Results say so; see README, section Data.", file=sys.stderr)

    outcomes, began = {}, time.perf_counter()
    if args.launcher == "inline":
        eta, keys = Eta(load_recorded()), [run_key(p.spec.name, p.row.name, args.preset) for p in plans]
        to_run = [args.force or read_status(p.dir) != "done" for p in plans]
        for i, plan in enumerate(plans, 1):
            left = eta.line([k for k, runs in zip(keys[i - 1:], to_run[i - 1:]) if runs])
            print(f"[{i}/{len(plans)}] {plan.name} ({args.preset}) -> {plan.dir}{left}", file=sys.stderr, flush=True)
            started = time.perf_counter()
            outcomes[plan.name] = _execute(plan, data_dir, device, args.force)
            if outcomes[plan.name] == "done":
                eta.finished(keys[i - 1], time.perf_counter() - started)
    else:
        from arae.launch import collect_command, submit_runs
        outcomes = submit_runs(plans, args, data_dir, collect_command(args))
        if args.no_wait:
            print(f"{len(plans)} runs: {sum(o == 'submitted' for o in outcomes.values())} submitted; see them with: "
                  f"{collect_command(args)}", file=sys.stderr)
            return 0
    write_report(args.out)
    failed = [n for n, o in outcomes.items() if o == "failed"]
    counts = {k: sum(o == k for o in outcomes.values()) for k in ("done", "skipped", "locked", "failed")}
    if counts["skipped"] == len(plans):
        print(f"all {len(plans)} runs were already done: nothing ran (--force runs them again); "
              f"report: {args.out / 'report' / 'index.html'}", file=sys.stderr)
    else:
        print(f"{len(plans)} runs in {time.perf_counter() - began:.0f}s: "
              + ", ".join(f"{n} {k}" for k, n in counts.items()), file=sys.stderr)
    if failed:
        print("failed runs: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


def exit_code(command, args) -> int:
    """Runs command(args); a user-facing error is one line on stderr and an exit status, never a traceback."""
    try:
        return command(args)
    except SuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None, prog: str = "run_all.py") -> int:
    args = build_parser(prog).parse_args(argv)
    launcher = ["run_all.py"] if prog == "run_all.py" else prog.split()[1:]  # python -m arae: ["-m", "arae"]
    args.command = shlex.join(["python", *launcher, *(sys.argv[1:] if argv is None else argv)])
    def stop(signum, frame) -> None:  # a SIGTERM (a scheduler, `kill`) stops like Ctrl-C: the run is marked stopped
        raise KeyboardInterrupt("stopped by SIGTERM")
    with contextlib.suppress(ValueError):  # only the main thread handles signals
        signal.signal(signal.SIGTERM, stop)
    try:
        return exit_code(run, args)
    except KeyboardInterrupt as err:
        print(f"\ninterrupted: finished runs are kept; {err or 're-run the same command to continue'}",
              file=sys.stderr)
        return 130
