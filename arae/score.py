"""`python -m arae score CORPUS --outputs ...`: score any system's style transfers with the suite's metrics
(the judges, BLEU against the sources and the human references, forward PPL, collapse), as one JSON object
on stdout. CORPUS is `yelp` or a folder of one <style>.txt per style (any number K >= 2 of styles).

--outputs takes the transfer files: each named <source>-to-<target>.txt (the direction read from the name,
in any order: a run's samples/ folder, so every run can be re-scored), or for two styles OUT0 OUT1 (the
transfers of style 0's and style 1's sources), or one folder holding either layout (test.0.tsf and
test.1.tsf included). Line i is the transfer of source sentence i. Sources default to the corpus's test
split and, for yelp, references to the 4 human rewrites of Li et al. 2018 / Luo et al. 2019. The judges and
the forward LM are trained on the corpus's training split once and kept under --artefacts, shared with
run_all.py's runs. Warnings (sources the judge or the LM learnt from, collapsed directions, repaired bytes)
go to stderr and into the JSON's "warnings".
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from arae.cli import exit_code
from arae.data import build_corpus, resolve_data_dir
from arae.data.readers import read_given_lines, read_lines_replacing_bad_utf8
from arae.errors import MetricNotComputable, SuiteError
from arae.metrics import METRICS, EvalContext, MetricValue
from arae.metrics.transfer import Direction, training_overlap
from arae.models.given import direction_files

METRICS_SHOWN = {"transfer_acc": "transfer_acc.fasttext", "judge_acc": "judge_acc.fasttext",
                 "transfer_acc_tfidf": "transfer_acc.tfidf", "judge_acc_tfidf": "judge_acc.tfidf",
                 "self_bleu": "self_bleu.sacrebleu", "self_bleu_mean": "self_bleu.sacrebleu_mean",
                 "ref_bleu": "ref_bleu.sacrebleu", "ref_bleu_mean": "ref_bleu.sacrebleu_mean",
                 "forward_ppl": "forward_ppl.kenlm", "distinct": "distinct_transfers", "copied": "copied_source"}
ORDER = 5
DIRECTION_NAME = re.compile(r"(.+)-to-(.+)\.txt$")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m arae score", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Examples: python -m arae score yelp --outputs neg2pos.txt pos2neg.txt\n"
                                       "          python -m arae score FOLDER --outputs runs/.../seed0-*/samples/*-to-*.txt")
    p.add_argument("corpus", help="'yelp', or a folder of one <style>.txt per style")
    p.add_argument("--outputs", nargs="+", required=True, metavar="OUT",
                   help="<source>-to-<target>.txt files, or OUT0 OUT1 for two styles, or one folder of either layout")
    p.add_argument("--column", type=int, metavar="N",
                   help="read the transfer from tab-separated column N of two-column files (source<TAB>transfer: 2)")
    p.add_argument("--sources", nargs="+", metavar="SRC", help="one file per style (default: the corpus's test split)")
    p.add_argument("--refs", nargs="+", metavar="R1[,R2...]",
                   help="per style, comma-separated reference files line-aligned with its sources "
                        "(default for yelp: reference0-3 of yelp-references; none for --sources without --refs)")
    p.add_argument("--data-dir", help="datasets folder (default: $ARAE_DATA_DIR, else ~/.cache/arae/data)")
    p.add_argument("--artefacts", type=Path, default=Path("runs/_artefacts"),
                   help="where the judges and the forward LM are built once (default: runs/_artefacts)")
    return p


def say(message: str) -> None:
    print(f"score: {message}", file=sys.stderr, flush=True)


def output_files(outputs: list[str], styles: tuple[str, ...]) -> dict[tuple[int, int], Path]:
    """(source, target) -> file, from a folder, from <source>-to-<target>.txt names, or positionally (2 styles)."""
    if len(outputs) == 1 and Path(outputs[0]).is_dir():
        return direction_files(Path(outputs[0]), styles)
    named = {Path(o): DIRECTION_NAME.match(Path(o).name) for o in outputs}
    if all(named.values()):
        index = {s: k for k, s in enumerate(styles)}
        files = {}
        for path, match in named.items():
            a, b = match.groups()
            if a not in index or b not in index or a == b:
                raise SuiteError(f"{path}: its name gives the direction {a} -> {b}, but the styles are "
                                 f"{', '.join(styles)}")
            files[(index[a], index[b])] = path
        missing = [f"{a}-to-{b}.txt" for s, a in enumerate(styles) for t, b in enumerate(styles)
                   if s != t and (s, t) not in files]
        if missing:
            raise SuiteError(f"--outputs lacks {', '.join(missing)} (every direction of {', '.join(styles)} is scored)")
        return files
    if len(styles) == 2 and len(outputs) == 2:
        return {(0, 1): Path(outputs[0]), (1, 0): Path(outputs[1])}
    raise SuiteError(f"--outputs takes 2 files (one per style: {', '.join(styles)}), files named "
                     f"<source>-to-<target>.txt, or one folder; got {len(outputs)}" if len(styles) == 2 else
                     f"--outputs: with {len(styles)} styles, name each file <source>-to-<target>.txt or give one "
                     f"folder of such files ({len(styles) * (len(styles) - 1)} directions)")


def score(args: argparse.Namespace) -> dict:
    name, warnings = args.corpus, []
    folder = Path(name).expanduser()
    if name != "yelp" and not folder.is_dir():
        raise SuiteError(f"unknown corpus {name!r}: expected 'yelp' or a folder of <style>.txt files")
    corpus = (build_corpus("yelp", resolve_data_dir(args.data_dir), maxlen=10**6) if name == "yelp"
              else build_corpus("style_dir", folder, maxlen=10**6))
    styles, k = corpus.styles, len(corpus.styles)
    if args.sources:
        if len(args.sources) != k:
            raise SuiteError(f"--sources takes {k} files (one per style: {', '.join(styles)}); got {len(args.sources)}")
        sources = [[" ".join(line.lower().split()) for line in _read(f, None, None, "", warnings)] for f in args.sources]
        source_names = list(args.sources)
    else:
        sources = [[" ".join(s) for s in style] for style in corpus.by_style["test"]]
        source_names = [f"the {s} test sentences ({f})" for s, f in zip(styles, corpus.description["files"]["test"])]
    files = output_files(args.outputs, styles)
    references = _references(args, corpus, sources, source_names, warnings)
    directions = []
    for (s, t), path in sorted(files.items()):
        lines = _read(path, len(sources[s]), args.column, source_names[s], warnings)
        refs = references[s] if references and k == 2 else None
        directions.append(Direction(s, t, sources[s], [" ".join(line.lower().split()) for line in lines], refs))
    warnings += training_overlap(corpus, sources)
    ctx = EvalContext(outputs={"transfers": directions}, train_text=[" ".join(s) for s in corpus.train],
                      eval_text=[], vocab_words=[], workdir=args.artefacts / "score_work",
                      params={"order": ORDER}, artefacts=args.artefacts, corpus=corpus)
    values = {}
    for key, metric in METRICS_SHOWN.items():
        began = time.perf_counter()
        try:
            values[key] = METRICS.get(metric)(ctx)
        except MetricNotComputable as err:
            values[key] = MetricValue.missing(str(err))
        shown = values[key].value if values[key].value is not None else f"missing ({values[key].missing_reason})"
        say(f"{key} = {shown} ({time.perf_counter() - began:.1f}s)")
    if "warning" in values["distinct"].rests_on:
        warnings.append(values["distinct"].rests_on)
    for line in warnings:
        say(f"warning: {line}")
    names = [d.name(styles) for d in directions]
    return {"overall": {k: v.value for k, v in values.items()} | {"n": sum(len(d.outputs) for d in directions)},
            "directions": {n: {k: v.details.get("per_direction", {}).get(n) for k, v in values.items()}
                           | {"n": len(d.outputs)} for n, d in zip(names, directions)},
            "missing": {k: v.missing_reason for k, v in values.items() if v.value is None},
            "warnings": warnings,
            "judge": {k: values["judge_acc"].details.get(k) for k in ("judge", "held_out_accuracy", "n_held_out",
                                                                        "n_train", "judge_artefact")},
            "bleu_signature": values["self_bleu"].details.get("signature"),
            "bleu_aggregations": {"self_bleu, ref_bleu": "pooled over the directions",
                                  "self_bleu_mean, ref_bleu_mean": "the mean of the directions' BLEU"},
            "forward_ppl_protocol": values["forward_ppl"].details.get("protocol"),
            "outputs": {n: str(files[(d.source, d.target)]) for n, d in zip(names, directions)},
            "sources": source_names, "data": corpus.description.get("substitute")}


def _read(path, expected: int | None, column: int | None, against: str, warnings: list[str]) -> list[str]:
    """A line-aligned file by the one rule (arae.data.readers.read_given_lines); repaired bytes are warned of."""
    if expected is None:  # a sources file: its own count is the reference
        lines, repaired = read_lines_replacing_bad_utf8(path)
    else:
        lines, repaired = read_given_lines(path, expected, against, column)
    if repaired:
        warnings.append(f"{path}: bytes that are not UTF-8 replaced on line(s) {', '.join(map(str, repaired))}")
    return lines


def _references(args, corpus, sources: list[list[str]], source_names: list[str],
                warnings: list[str]) -> list[list[list[str]]] | None:
    """Per style, per source sentence, its references: from --refs, else the corpus's own (default sources only)."""
    if args.refs:
        if len(args.refs) != len(sources):
            raise SuiteError(f"--refs takes {len(sources)} arguments (one per style, files joined by commas)")
        per_style = []
        for files, style_sources, source_name in zip(args.refs, sources, source_names):
            read = [[" ".join(line.lower().split()) for line in _read(f, len(style_sources), None, source_name, warnings)]
                    for f in files.split(",") if f]
            per_style.append([list(refs) for refs in zip(*read)])
        return per_style
    if not args.sources:
        warnings += [f"{line} (the corpus's references)" for line in
                     corpus.description.get("references_with_invalid_utf8", {}).get("lines", [])]
    return None if args.sources else corpus.references


def main(argv: list[str]) -> int:
    def print_score(args: argparse.Namespace) -> int:
        print(json.dumps(score(args), indent=2))
        return 0
    return exit_code(print_score, build_parser().parse_args(argv))
