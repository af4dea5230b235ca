"""--set overrides: typed, validated, with did-you-mean; malformed input is a ConfigError."""
import pytest

from arae.config import apply_overrides, config_hash, deep_merge
from arae.errors import ConfigError

BASE = {"data": {"corpus": "snli_lm", "path": None, "maxlen": 15},
        "train": {"steps": 10, "lr_ae": 1.0, "amp": "none", "flag": False}}


def test_typed_overrides_and_data_shorthand():
    cfg = apply_overrides(BASE, ["train.steps=200", "train.lr_ae=0.5", "train.flag=true", "data=/x/corpus"])
    assert cfg["train"] == {"steps": 200, "lr_ae": 0.5, "amp": "none", "flag": True}
    assert cfg["data"]["corpus"] == "text_dir" and cfg["data"]["path"] == "/x/corpus" and cfg["data"]["user_folder"]
    assert BASE["train"]["steps"] == 10  # the preset itself is untouched


@pytest.mark.parametrize("override, message", [
    ("train.steps", "malformed"),
    ("=3", "malformed"),
    ("train..steps=3", "malformed"),
    ("train.step=3", "did you mean 'train.steps'"),
    ("trian.steps=3", "did you mean 'train'"),
    ("train.steps=many", "expected a int"),
    ("train=3", "is a section"),
])
def test_bad_overrides(override, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(BASE, [override])


def test_merge_and_hash():
    merged = deep_merge(BASE, {"train": {"steps": 5}})
    assert merged["train"]["lr_ae"] == 1.0 and merged["train"]["steps"] == 5
    assert config_hash(merged) != config_hash(BASE)
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
