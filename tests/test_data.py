"""The loader: typing, every error kind, SQL and Parquet sources, aliases, regions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import TINY_EXTRACT, frames, write_extract

from toolkit.data import DataError, load_dataset, subset_to_region
from toolkit.schema import OPTIONAL_TABLES, REQUIRED_TABLES


def _with(table: str, text: str) -> dict[str, str]:
    return {**TINY_EXTRACT, table: text}


def _problems(folder: Path) -> pd.DataFrame:
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    return caught.value.to_frame()


def test_loads_and_types_the_tiny_extract(tiny_extract: Path) -> None:
    dataset = load_dataset(tiny_extract)
    assert dataset.row_counts()["demand"] == 4
    # GTINs and lots keep their leading zeros; they are text, never numbers.
    assert dataset.items["gtin"].tolist() == ["00884521123451", "00884521000011"]
    assert dataset.inventory.loc[1, "lot"] == "0042"
    assert pd.api.types.is_string_dtype(dataset.items["gtin"])
    assert dataset.demand["date"].dtype == "datetime64[ns]"
    assert dataset.items["lot_controlled"].dtype == bool
    assert dataset.lanes["active"].tolist() == [True, True, True]  # "yes" is true
    assert dataset.items["shelf_life_days"].isna().tolist() == [False, True]
    assert dataset.present == frozenset({*REQUIRED_TABLES, "inventory"})
    assert dataset.movements.empty and "udi" in dataset.movements.columns
    assert len(dataset.fingerprint) == 16


def test_optional_active_column_defaults_to_true(tmp_path: Path) -> None:
    lanes = "\n".join(line.rsplit(",", 1)[0] for line in TINY_EXTRACT["lanes"].strip().splitlines())
    dataset = load_dataset(write_extract(tmp_path, _with("lanes", lanes + "\n")))
    assert dataset.lanes["active"].all()


def test_missing_table_is_reported(tmp_path: Path) -> None:
    tables = dict(TINY_EXTRACT)
    del tables["lanes"]
    problems = _problems(write_extract(tmp_path, tables))
    assert problems[["table", "rule"]].values.tolist() == [["lanes", "missing_table"]]


def test_three_corruptions_are_reported_together(tmp_path: Path) -> None:
    """The issue's acceptance case: a dropped column, a dangling lane, text in a quantity."""
    sites = "\n".join(line.rsplit(",", 1)[0] for line in TINY_EXTRACT["sites"].strip().splitlines())
    lanes = TINY_EXTRACT["lanes"] + "DC-NL,MK-XX,road,2,1,0,0,true\n"
    demand = TINY_EXTRACT["demand"].replace("MK-DE,C1,300", "MK-DE,C1,three hundred")
    folder = write_extract(
        tmp_path, {**TINY_EXTRACT, "sites": sites, "lanes": lanes, "demand": demand}
    )
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    message = str(caught.value)
    assert "[missing_column] sites.country" in message
    assert "[unknown_reference] lanes.destination" in message and "'MK-XX'" in message
    assert "[wrong_type] demand.quantity" in message and "'three hundred'" in message
    assert "row 2 (date=2026-01-05, site_id=MK-DE, sku=C1)" in message
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize(
    ("table", "text", "rule", "column"),
    [
        (
            "demand",
            TINY_EXTRACT["demand"] + "2026-01-05,MK-DE,K1,4\n",
            "duplicate_key",
            "date, site_id, sku",
        ),
        ("demand", TINY_EXTRACT["demand"] + "2026-13-05,MK-DE,K1,4\n", "wrong_type", "date"),
        (
            "demand",
            TINY_EXTRACT["demand"] + "2026-02-02,MK-DE,K1,-4\n",
            "below_minimum",
            "quantity",
        ),
        ("demand", TINY_EXTRACT["demand"] + "2026-02-02,MK-DE,ZZ,4\n", "unknown_reference", "sku"),
        (
            "demand",
            TINY_EXTRACT["demand"] + "2026-02-02,DC-NL,K1,4\n",
            "wrong_site_type",
            "site_id",
        ),
        ("demand", TINY_EXTRACT["demand"] + "2026-02-02,,K1,4\n", "empty_value", "site_id"),
        (
            "items",
            TINY_EXTRACT["items"].replace("1200,mature", "0,mature"),
            "not_positive",
            "unit_cost",
        ),
        ("items", TINY_EXTRACT["items"].replace("mature", "retired"), "not_allowed", "lifecycle"),
        (
            "items",
            TINY_EXTRACT["items"].replace("1825,true", "1825,maybe"),
            "wrong_type",
            "lot_controlled",
        ),
        ("items", TINY_EXTRACT["items"].replace("1825", "18.5"), "wrong_type", "shelf_life_days"),
        (
            "items",
            TINY_EXTRACT["items"].replace("true,,critical", "true,K9,critical"),
            "unknown_reference",
            "successor_sku",
        ),
        (
            "sourcing",
            TINY_EXTRACT["sourcing"] + "DC-NL,K1,5,100,800\n",
            "wrong_site_type",
            "site_id",
        ),
    ],
)
def test_each_error_kind_names_table_column_and_rule(
    tmp_path: Path, table: str, text: str, rule: str, column: str
) -> None:
    problems = _problems(write_extract(tmp_path, _with(table, text)))
    assert len(problems) == 1, problems
    found = problems.iloc[0]
    assert (found["table"], found["column"], found["rule"]) == (table, column, rule)
    assert found["rows"].startswith("row ")


def test_missing_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no folder"):
        load_dataset(tmp_path / "nowhere")


def test_parquet_and_sqlite_give_the_same_dataset(tmp_path: Path, tiny_extract: Path) -> None:
    from_csv = load_dataset(tiny_extract)
    parquet_dir = tmp_path / "parquet"
    parquet_dir.mkdir()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'erp.db'}")
    for name, frame in frames().items():
        frame.to_parquet(parquet_dir / f"{name}.parquet")
        frame.to_sql(name, engine, index=False)
    engine.dispose()
    for source in (parquet_dir, f"sqlite:///{tmp_path / 'erp.db'}"):
        other = load_dataset(source)
        assert other.fingerprint == from_csv.fingerprint, source


def test_sqlite_with_native_types_keeps_codes_as_text(tmp_path: Path, tiny_extract: Path) -> None:
    """A database that stores quantities as numbers and dates as dates loads the same."""
    typed = load_dataset(tiny_extract)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'typed.db'}")
    for name, frame in typed.tables().items():
        if name in typed.present:
            frame.to_sql(name, engine, index=False)
    engine.dispose()
    again = load_dataset(f"sqlite:///{tmp_path / 'typed.db'}")
    assert again.fingerprint == typed.fingerprint


def test_sql_errors_are_reported_like_files(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    for name, frame in frames().items():
        if name != "items":
            frame.to_sql(name, engine, index=False)
    engine.dispose()
    with pytest.raises(DataError, match=r"\[missing_table\] items"):
        load_dataset(f"sqlite:///{tmp_path / 'bad.db'}")


def test_second_erp_codes_are_mapped_through_aliases(tmp_path: Path) -> None:
    demand = (
        "date,site_id,sku,quantity,source_system\n"
        "2026-01-05,MK-DE,K1,3,\n"
        "2026-01-05,MK-US,LOC-77,5,SAP-LATAM\n"
        "2026-01-05,MK-US,LOC-99,2,SAP-LATAM\n"
    )
    aliases = "system,local_code,sku\nSAP-LATAM,LOC-77,C1\n"
    dataset = load_dataset(write_extract(tmp_path, {**_with("demand", demand), "aliases": aliases}))
    mapped = dataset.demand.set_index("quantity")
    assert mapped.loc[5, "sku"] == "C1" and mapped.loc[5, "local_code"] == "LOC-77"
    # The unmapped code is kept for the quality gate, not dropped and not an error.
    assert mapped.loc[2, "sku"] == "LOC-99"
    assert len(dataset.demand) == 3


def test_optional_tables_may_be_absent(tiny_extract: Path) -> None:
    dataset = load_dataset(tiny_extract)
    for name in OPTIONAL_TABLES:
        assert isinstance(dataset.table(name), pd.DataFrame)


def test_subset_to_region_keeps_upstream_and_region_markets(tiny_extract: Path) -> None:
    dataset = load_dataset(tiny_extract)
    emea = subset_to_region(dataset, "EMEA")
    assert set(emea.sites["site_id"]) == {"PL-IE", "DC-NL", "MK-DE"}
    assert set(emea.demand["site_id"]) == {"MK-DE"}
    assert set(emea.lanes["destination"]) == {"DC-NL", "MK-DE"}
    with pytest.raises(ValueError, match="known: EMEA, NAM"):
        subset_to_region(dataset, "MARS")
