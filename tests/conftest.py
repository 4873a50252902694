"""Shared fixtures: a tiny, hand-made ERP extract that satisfies the data model."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

TINY_EXTRACT = {
    "sites": """site_id,name,site_type,region,country
PL-IE,Galway plant,plant,EMEA,IE
DC-NL,Venlo DC,dc,EMEA,NL
MK-DE,Germany,market,EMEA,DE
MK-US,United States,market,NAM,US
""",
    "items": """sku,description,gtin,product_line,unit_cost,lifecycle,shelf_life_days,lot_controlled,serial_controlled,successor_sku,criticality
K1,Knee implant,00884521123451,implants,1200,mature,1825,true,true,,critical
C1,Catheter,00884521000011,consumables,12.5,growth,,true,false,,standard
""",
    "sourcing": """site_id,sku,processing_days,capacity_per_week,unit_cost
PL-IE,K1,5,100,800
PL-IE,C1,2,10000,4
""",
    "lanes": """origin,destination,mode,transit_days,cost_per_unit,tariff_rate,customs_days,active
PL-IE,DC-NL,road,3,1.5,0,0,true
DC-NL,MK-DE,road,2,0.8,0,0,true
DC-NL,MK-US,air,4,5,0.02,2,yes
""",
    "demand": """date,site_id,sku,quantity
2026-01-05,MK-DE,K1,3
2026-01-05,MK-DE,C1,300
2026-01-12,MK-DE,C1,280
2026-01-05,MK-US,C1,100
""",
    "inventory": """snapshot_date,site_id,sku,lot,serial,expiry_date,quantity,status
2026-01-19,DC-NL,K1,L001,S0001,2030-01-31,1,released
2026-01-19,MK-DE,C1,0042,,2027-06-30,150,released
""",
}


def write_extract(folder: Path, tables: dict[str, str] | None = None) -> Path:
    """Write ``tables`` (CSV text by table name) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (tables or TINY_EXTRACT).items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def frames(tables: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Parse the CSV texts as all-text DataFrames (as the loader reads them)."""
    return {
        name: pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
        for name, text in (tables or TINY_EXTRACT).items()
    }


@pytest.fixture
def tiny_extract(tmp_path: Path) -> Path:
    """A folder holding the tiny extract as CSV files."""
    return write_extract(tmp_path / "extract")
