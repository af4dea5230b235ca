"""Transfers someone else made, a published system's or a user's, scored as a row that trains nothing.

A folder holds one file per direction, line i the transfer of source sentence i, in one of two layouts:
- `<source>-to-<target>.txt` for any number of styles, as a run of this suite writes them;
- `test.<k>.tsf` for two styles, the transfers of style k's sources into the other style (the layout of
  Li et al. 2018 and of the DualRL collection of published outputs).
Files are read by one rule (arae.data.readers.read_given_lines): a line with a tab is refused unless
`given.column` says which tab-separated column holds the transfer; bytes that are not UTF-8 are replaced
and the lines named in the run's record; CRLF endings are accepted.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from arae.data.readers import read_given_lines
from arae.errors import DataError
from arae.models import MODELS
from arae.models.capabilities import TRANSFERS
from arae.models.method import TextMethod


def given_folder(cfg: dict, data_dir: Path) -> Path:
    """given.dir, taken inside the data folder when it is relative and exists there."""
    folder = Path(cfg["given"]["dir"]).expanduser()
    return folder if folder.is_absolute() or not (Path(data_dir) / folder).is_dir() else Path(data_dir) / folder


def direction_files(folder: Path, styles: tuple[str, ...]) -> dict[tuple[int, int], Path]:
    """(source, target) -> the file of that direction's transfers; every direction of `styles` must have one."""
    if not folder.is_dir():
        hint = (" (the published outputs: python run_all.py --download yelp_published --data-dir DATA)"
                if "yelp-published" in folder.parts else "")
        raise DataError(folder, "not a folder of transfers (expected <source>-to-<target>.txt or test.<k>.tsf "
                                f"files){hint}")
    named = {(s, t): folder / f"{a}-to-{b}.txt" for s, a in enumerate(styles) for t, b in enumerate(styles) if s != t}
    if any(p.exists() for p in named.values()):
        missing = [p.name for p in named.values() if not p.exists()]
        if missing:
            raise DataError(folder, f"no transfers for {', '.join(missing)} (every direction of the styles "
                                    f"{', '.join(styles)} needs its file)")
        return named
    tsf = {(0, 1): folder / "test.0.tsf", (1, 0): folder / "test.1.tsf"}
    if len(styles) == 2 and all(p.exists() for p in tsf.values()):
        return tsf
    expected = ", ".join(p.name for p in named.values()) + (" (or test.0.tsf and test.1.tsf)" if len(styles) == 2 else "")
    raise DataError(folder, f"expected the files {expected}")


@MODELS.register("given_transfers")
class GivenTransfers(TextMethod):
    offers = frozenset({TRANSFERS})
    trains = False

    @classmethod
    def input_fingerprint(cls, cfg: dict, data_dir: Path) -> str:
        """What the run's key covers beyond its config: the bytes of the folder's files."""
        folder, digest = given_folder(cfg, data_dir), hashlib.sha256()
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def read(self, folder: Path, styles: tuple[str, ...], sources: list[list[list[str]]], lowercase: bool) -> None:
        """Reads every direction's file, checked against its sources; `notes` say what was repaired."""
        self.table, self.notes, self.sources = {}, [], sources
        self.files = direction_files(folder, styles)
        for (s, t), path in self.files.items():
            lines, repaired = read_given_lines(path, len(sources[s]), f"the {styles[s]} test sentences",
                                               self.cfg["given"]["column"])
            self.table[(s, t)] = [(line.lower() if lowercase else line).split() for line in lines]
            if repaired:
                self.notes.append(f"{path}: bytes that are not UTF-8 replaced on line(s) {', '.join(map(str, repaired))}")

    def transfer(self, sentences: list[list[str]], source: int, target: int) -> list[list[str]]:
        """The given transfer of each sentence: line i for test sentence i (the first, for a repeated one)."""
        lines, sources = self.table[(source, target)], self.sources[source]
        if sentences == sources:
            return lines
        line_of = {}
        for i, sentence in enumerate(sources):
            line_of.setdefault(tuple(sentence), i)
        unknown = [" ".join(s) for s in sentences if tuple(s) not in line_of]
        if unknown:
            raise DataError(self.files[(source, target)], f"no given transfer of {unknown[0]!r} ({len(unknown)} such "
                                                          "sentences): given transfers exist only for the test sentences")
        return [lines[line_of[tuple(s)]] for s in sentences]
