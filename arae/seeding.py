"""Seeds derived by hashing names, so each benchmark/row/seed index gets its own stream."""
from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def derive_seed(base: int, *names: object) -> int:
    key = "/".join([str(base), *map(str, names)]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "little") & 0x7FFFFFFF


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
