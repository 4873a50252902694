"""Parameters: merging, validation errors that name file and key, safe YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import (
    ConfigError,
    load_params,
    merge_params,
    params_fingerprint,
    region_params_paths,
)
from toolkit.paths import PARAMS_DIR


def _write(folder: Path, region_text: str, defaults_text: str = "") -> Path:
    (folder / "regions").mkdir(parents=True, exist_ok=True)
    if defaults_text:
        (folder / "defaults.yaml").write_text(defaults_text)
    path = folder / "regions" / "test.yaml"
    path.write_text(region_text)
    return path


def test_every_committed_region_file_is_valid() -> None:
    paths = region_params_paths()
    assert {p.stem for p in paths} >= {"emea", "nam", "latam", "apac", "china"}
    regions = {load_params(p).region for p in paths}
    assert regions == {"EMEA", "NAM", "LATAM", "APAC", "CHINA"}


def test_region_overrides_defaults_key_by_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "region: EMEA\nnetwork:\n  carrying_rate: 0.3\n",
        "network:\n  carrying_rate: 0.2\n  cost_per_day: 2.0\n",
    )
    params = load_params(path)
    assert params.network.carrying_rate == 0.3
    assert params.network.cost_per_day == 2.0  # kept from the defaults
    assert params.segment.adi_cutoff == 1.32  # the model's default


def test_merge_is_deep_and_does_not_mutate() -> None:
    base = {"a": {"b": 1, "c": 2}, "d": 1}
    merged = merge_params(base, {"a": {"b": 5}})
    assert merged == {"a": {"b": 5, "c": 2}, "d": 1}
    assert base == {"a": {"b": 1, "c": 2}, "d": 1}


def test_unknown_keys_and_wrong_types_name_file_and_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "region: EMEA\nquality:\n  max_defect_sharee: {}\nnetwork:\n  carrying_rate: high\n"
        "report:\n  currency: 978\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_params(path)
    message = str(caught.value)
    assert "quality.max_defect_sharee: unknown key" in message
    assert "network.carrying_rate: Input should be a valid number" in message
    assert "report.currency: must be text; quote codes in YAML (got the number 978)" in message
    assert str(path) in message


def test_unquoted_numeric_code_is_rejected_not_mangled(tmp_path: Path) -> None:
    # YAML reads an unquoted 00012345670005 as an (octal-looking) number.
    path = _write(tmp_path, "region: EMEA\noptimize:\n  must_hold: [00012345670005]\n")
    with pytest.raises(ConfigError, match=r"optimize\.must_hold\.0: must be text"):
        load_params(path)
    quoted = _write(tmp_path, "region: EMEA\noptimize:\n  must_hold: ['00012345670005']\n")
    assert load_params(quoted).optimize.must_hold == ["00012345670005"]


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = _write(tmp_path, "region: !!python/object/apply:os.system ['echo unsafe']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(path)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("region: EMEA\nsegment:\n  abc_cutoffs: [0.95, 0.8]\n", "segment.abc_cutoffs"),
        ("region: EMEA\noptimize:\n  service_level: 1.5\n", "optimize.service_level"),
        ("region: ''\n", "region"),
        ("network: {}\n", "region"),
    ],
)
def test_out_of_range_values_are_errors(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_params(_write(tmp_path, text))


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such parameters file"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_params(_write(tmp_path, "- a\n- b\n"))


def test_fingerprint_changes_with_any_value() -> None:
    emea = load_params(PARAMS_DIR / "regions" / "emea.yaml")
    same = load_params(PARAMS_DIR / "regions" / "emea.yaml")
    changed = emea.model_copy(update={"region": "EMEA2"})
    assert params_fingerprint(emea) == params_fingerprint(same)
    assert params_fingerprint(emea) != params_fingerprint(changed)
