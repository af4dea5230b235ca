"""Data layer: official sources and downloads, raw-format readers, and sentence corpora."""
from arae.data.corpora import CORPORA, Corpus, ImageCorpus, PairCorpus, StyledCorpus, TextCorpus, build_corpus
from arae.data import images  # noqa: F401  (registers the mnist corpus)
from arae.data.readers import (
    NLI_LABELS,
    NLIPair,
    NLIPairs,
    locate_snli,
    read_sentences,
    read_snli,
    read_style_corpus,
    read_text_lines,
    snli_lm_sentences,
)
from arae.data.sources import (
    DATASETS,
    DatasetSource,
    RemoteFile,
    download,
    resolve_data_dir,
    safe_extract_zip,
    sha256_file,
)

__all__ = [
    "CORPORA", "Corpus", "ImageCorpus", "PairCorpus", "StyledCorpus", "TextCorpus", "build_corpus",
    "NLI_LABELS", "NLIPair", "NLIPairs", "locate_snli", "read_sentences", "read_snli",
    "read_style_corpus", "read_text_lines", "snli_lm_sentences",
    "DATASETS", "DatasetSource", "RemoteFile", "download", "resolve_data_dir",
    "safe_extract_zip", "sha256_file",
]
