"""Configs are plain nested dicts (JSON-serialisable, hashable); presets are data; `--set a.b=v` overrides."""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
from pathlib import Path
from typing import Any

from arae.errors import ConfigError


def deep_merge(base: dict, patch: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def config_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def training_config(cfg: dict) -> dict:
    """The part of a config that decides what training computes (everything but `eval` and the downstream
    `classifier`): runs that agree on it, the model and the seed train identically, and a checkpoint is
    checked against it."""
    return {k: v for k, v in cfg.items() if k not in ("eval", "classifier")}


def _coerce(text: str, like: Any, key: str) -> Any:
    """Parse the override in the type of the value it replaces; None defaults accept JSON or a string."""
    try:
        if isinstance(like, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        if isinstance(like, int):
            return int(text)
        if isinstance(like, float):
            return float(text)
        if isinstance(like, str):
            return text
        return json.loads(text)
    except (ValueError, json.JSONDecodeError):
        if like is None:
            return text
        raise ConfigError(f"--set {key}={text}: expected a {type(like).__name__}") from None


def parse_override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
        raise ConfigError(f"malformed --set {text!r}: expected KEY=VALUE, e.g. --set train.steps=200")
    return key.strip(), value.strip()


def apply_overrides(cfg: dict, overrides: list[str], user_corpus: str = "text_dir") -> dict:
    """`data=PATH` is a shorthand for a user's own folder, read by the corpus `user_corpus` (the benchmark's:
    train.txt/valid.txt/test.txt for generation, one file per style for transfer)."""
    cfg = copy.deepcopy(cfg)
    for text in overrides:
        key, value = parse_override(text)
        if key == "data":
            cfg["data"].update(corpus=user_corpus, path=str(Path(value).expanduser()), user_folder=True)
            continue
        node, parts = cfg, key.split(".")
        for depth, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                known = list(node) if isinstance(node, dict) else []
                close = difflib.get_close_matches(part, known, n=1)
                hint = f"; did you mean {'.'.join(parts[:depth] + close)!r}?" if close else ""
                raise ConfigError(f"--set {text}: unknown key {'.'.join(parts[:depth + 1])!r}{hint}")
            if depth == len(parts) - 1:
                if isinstance(node[part], dict):
                    raise ConfigError(f"--set {text}: {key!r} is a section; set one of its keys: {', '.join(node[part])}")
                node[part] = _coerce(value, node[part], key)
            node = node[part]
    return cfg
