"""Word vocabulary: top-k words of the training split plus four special symbols."""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)


class Vocab:
    def __init__(self, words: Sequence[str]):
        self.itos = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], max_size: int, min_count: int = 1) -> "Vocab":
        """The `max_size` most frequent words seen at least `min_count` times (Shen's code keeps words seen 5
        times); ties broken alphabetically so the vocabulary is deterministic."""
        counts = Counter(w for s in sentences for w in s)
        ranked = sorted(((w, n) for w, n in counts.items() if n >= min_count), key=lambda kv: (-kv[1], kv[0]))
        return cls([w for w, _ in ranked[:max_size]])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        return [self.stoi.get(w, UNK_ID) for w in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Token ids up to the first <eos>; padding and <bos> are dropped."""
        words = []
        for i in ids:
            if i == EOS_ID:
                break
            if i not in (PAD_ID, BOS_ID):
                words.append(self.itos[i])
        return words

    @property
    def words(self) -> list[str]:
        """The real words, without the special symbols."""
        return self.itos[len(SPECIALS):]
