"""`python -m arae score yelp --outputs OUT0 OUT1`: score any system's style transfers with the suite's
metrics (the judge, BLEU against the sources and the human references, forward KenLM PPL), as one JSON
object on stdout. OUTi holds one transfer per line of the style-i sources; sources default to the Li et
al. test sentences (500 + 500) and references to their 4 human rewrites. The judge and the forward LM are
trained on the corpus's training split once and kept under --artefacts, shared with run_all.py's runs.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from arae.cli import exit_code
from arae.data import build_corpus, read_text_lines, resolve_data_dir
from arae.errors import DataError, MetricNotComputable, SuiteError
from arae.metrics import METRICS, EvalContext, MetricValue
from arae.metrics.transfer import Direction

METRICS_SHOWN = {"transfer_acc": "transfer_acc.fasttext", "judge_acc": "judge_acc.fasttext",
                 "transfer_acc_tfidf": "transfer_acc.tfidf", "judge_acc_tfidf": "judge_acc.tfidf",
                 "self_bleu": "self_bleu.sacrebleu", "ref_bleu": "ref_bleu.sacrebleu", "forward_ppl": "forward_ppl.kenlm"}
ORDER = 5


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m arae score", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example: python -m arae score yelp --outputs neg2pos.txt pos2neg.txt")
    p.add_argument("corpus", help="'yelp', or a folder of one <style>.txt per style (two styles)")
    p.add_argument("--outputs", nargs="+", required=True, metavar="OUT",
                   help="one file per style: line i is the transfer of line i of that style's sources")
    p.add_argument("--sources", nargs="+", metavar="SRC", help="one file per style (default: the corpus's test split)")
    p.add_argument("--refs", nargs="+", metavar="R1[,R2...]",
                   help="per style, comma-separated reference files line-aligned with its sources "
                        "(default for yelp: reference0-3 of yelp-references; none for --sources without --refs)")
    p.add_argument("--data-dir", help="datasets folder (default: $ARAE_DATA_DIR, else ~/.cache/arae/data)")
    p.add_argument("--artefacts", type=Path, default=Path("runs/_artefacts"),
                   help="where the judge and the forward LM are built once (default: runs/_artefacts)")
    return p


def _lines(path: str, lowercase: bool = True) -> list[str]:
    return [" ".join(line.lower().split() if lowercase else line.split()) for line in read_text_lines(path)]


def _aligned(files: list[str], counts: list[int], what: str, against: list[str]) -> list[list[str]]:
    read = [_lines(f) for f in files]
    for f, lines, n, other in zip(files, read, counts, against):
        if len(lines) != n:
            raise DataError(f, f"{len(lines)} lines, but {other} has {n}: {what} must be line-aligned with the sources")
    return read


def score(args: argparse.Namespace) -> dict:
    name = args.corpus
    folder = Path(name).expanduser()
    if name != "yelp" and not folder.is_dir():
        raise SuiteError(f"unknown corpus {name!r}: expected 'yelp' or a folder of <style>.txt files")
    corpus = (build_corpus("yelp", resolve_data_dir(args.data_dir), maxlen=10**6) if name == "yelp"
              else build_corpus("style_dir", folder, maxlen=10**6))
    k = len(corpus.styles)
    if k != 2:
        raise SuiteError(f"{name}: score takes two-style corpora ({k} styles found)")
    if len(args.outputs) != k:
        raise SuiteError(f"--outputs takes {k} files (one per style: {', '.join(corpus.styles)}); got {len(args.outputs)}")
    if args.sources:
        if len(args.sources) != k:
            raise SuiteError(f"--sources takes {k} files; got {len(args.sources)}")
        sources, source_names = [_lines(f) for f in args.sources], args.sources
    else:
        sources = [[" ".join(s) for s in style] for style in corpus.by_style["test"]]
        source_names = [f"the {s} test sentences ({f})" for s, f in zip(corpus.styles, corpus.description["files"]["test"])]
    outputs = _aligned(args.outputs, list(map(len, sources)), "outputs", source_names)
    references = _references(args, corpus, sources, source_names)
    directions = [Direction(s, 1 - s, sources[s], outputs[s], references[s] if references else None) for s in range(k)]
    ctx = EvalContext(outputs={"transfers": directions}, train_text=[" ".join(s) for s in corpus.train],
                      eval_text=[], vocab_words=[], workdir=args.artefacts / "score_work",
                      params={"order": ORDER}, artefacts=args.artefacts, corpus=corpus)
    values = {}
    for key, metric in METRICS_SHOWN.items():
        try:
            values[key] = METRICS.get(metric)(ctx)
        except MetricNotComputable as err:
            values[key] = MetricValue.missing(str(err))
    names = [d.name(corpus.styles) for d in directions]
    result = {"overall": {k: v.value for k, v in values.items()} | {"n": sum(len(o) for o in outputs)},
              "directions": {n: {k: v.details.get("per_direction", {}).get(n) for k, v in values.items()}
                             | {"n": len(d.outputs)} for n, d in zip(names, directions)},
              "missing": {k: v.missing_reason for k, v in values.items() if v.value is None},
              "judge": {k: values["judge_acc"].details.get(k) for k in ("judge", "held_out_accuracy", "n_held_out",
                                                                          "n_train", "judge_artefact")},
              "bleu_signature": values["self_bleu"].details.get("signature"),
              "forward_ppl_protocol": values["forward_ppl"].details.get("protocol"),
              "outputs": list(args.outputs), "sources": source_names, "data": corpus.description.get("substitute")}
    return result


def _references(args, corpus, sources: list[list[str]], source_names: list[str]) -> list[list[list[str]]] | None:
    """Per style, per source sentence, its references: from --refs, else the corpus's own (default sources only)."""
    if args.refs:
        if len(args.refs) != len(sources):
            raise SuiteError(f"--refs takes {len(sources)} arguments (one per style, files joined by commas)")
        per_style = []
        for files, style_sources, source_name in zip(args.refs, sources, source_names):
            files = [f for f in files.split(",") if f]
            read = _aligned(files, [len(style_sources)] * len(files), "references", [source_name] * len(files))
            per_style.append([list(refs) for refs in zip(*read)])
        return per_style
    return None if args.sources else corpus.references


def main(argv: list[str]) -> int:
    def print_score(args: argparse.Namespace) -> int:
        print(json.dumps(score(args), indent=2))
        return 0
    return exit_code(print_score, build_parser().parse_args(argv))
