"""The canonical ERP data model: tables, columns, types, keys and references.

This module is the single written-down contract of ``docs/data_model.md``. The
loader (:mod:`toolkit.data`) enforces it and the generator (:mod:`toolkit.synth`)
writes to it. Column *names* are the contract: extra columns are kept as they
are, missing required ones are an error.

Column kinds
------------
``code``      identifier kept as text (site ids, skus, GTINs, lots, serials):
              never parsed as a number, so leading zeros survive.
``text``      free text.
``float``     real number; ``int`` whole number (stored as float when nullable).
``date``      calendar date (ISO 8601, ``YYYY-MM-DD``).
``datetime``  timestamp (ISO 8601).
``bool``      true/false (accepts true/false, yes/no, 1/0, y/n, t/f).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ColumnKind",
    "Column",
    "Reference",
    "TableSpec",
    "TABLES",
    "REQUIRED_TABLES",
    "OPTIONAL_TABLES",
    "SITE_TYPES",
    "LIFECYCLES",
    "MODES",
    "EVENT_TYPES",
    "INVENTORY_STATUSES",
    "PRIMARY_SYSTEM",
]

ColumnKind = Literal["code", "text", "float", "int", "date", "datetime", "bool"]

SITE_TYPES = ("plant", "dc", "market")
LIFECYCLES = ("launch", "growth", "mature", "end_of_life")
MODES = ("sea", "air", "road")
EVENT_TYPES = ("tender", "maintenance", "promotion", "reimbursement")
INVENTORY_STATUSES = ("released", "quarantine", "in_transit")

#: Rows whose optional ``source_system`` column is empty or equal to this value use
#: global skus; any other value marks a local code from a second ERP system that the
#: ``aliases`` table maps to a global sku.
PRIMARY_SYSTEM = "global"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    Parameters
    ----------
    name : str
        Column name (the contract).
    kind : ColumnKind
        How values are typed (see the module docstring).
    required : bool
        Whether the column must be present in the file.
    nullable : bool
        Whether a value may be empty.
    choices : tuple of str, optional
        Allowed values (for categorical codes).
    min_value : float, optional
        Smallest allowed value (inclusive) for numeric columns.
    positive : bool
        Numeric values must be strictly greater than zero.
    default : object, optional
        Value used when an optional column is absent.
    """

    name: str
    kind: ColumnKind
    required: bool = True
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    min_value: float | None = None
    positive: bool = False
    default: object = None


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``column`` of this table must exist in ``table.target_column``.

    ``where`` restricts the referenced rows (e.g. ``{"site_type": "plant"}``).
    """

    column: str
    table: str
    target_column: str
    where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns, key and references."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    required: bool = True
    unique_key: bool = True
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)


def _site_ref(column: str, site_type: str | None = None) -> Reference:
    where = (("site_type", site_type),) if site_type else ()
    return Reference(column, "sites", "site_id", where)


def _sku_ref(column: str = "sku") -> Reference:
    return Reference(column, "items", "sku")


_SOURCE_SYSTEM = Column("source_system", "code", required=False, nullable=True)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "sites",
            (
                Column("site_id", "code"),
                Column("name", "text"),
                Column("site_type", "code", choices=SITE_TYPES),
                Column("region", "code"),
                Column("country", "code"),
            ),
            key=("site_id",),
            description="Plants, distribution centres and markets.",
        ),
        TableSpec(
            "items",
            (
                Column("sku", "code"),
                Column("description", "text"),
                Column("gtin", "code"),
                Column("product_line", "code"),
                Column("unit_cost", "float", positive=True),
                Column("lifecycle", "code", choices=LIFECYCLES),
                Column("shelf_life_days", "int", nullable=True, min_value=0),
                Column("lot_controlled", "bool"),
                Column("serial_controlled", "bool"),
                Column("successor_sku", "code", required=False, nullable=True),
                Column("criticality", "code", required=False, nullable=True),
            ),
            key=("sku",),
            references=(Reference("successor_sku", "items", "sku"),),
            description="Item master: one row per global sku.",
        ),
        TableSpec(
            "sourcing",
            (
                Column("site_id", "code"),
                Column("sku", "code"),
                Column("processing_days", "float", min_value=0),
                Column("capacity_per_week", "float", min_value=0),
                Column("unit_cost", "float", positive=True),
            ),
            key=("site_id", "sku"),
            references=(_site_ref("site_id", "plant"), _sku_ref()),
            description="Which plant makes which sku, how fast and at what cost.",
        ),
        TableSpec(
            "lanes",
            (
                Column("origin", "code"),
                Column("destination", "code"),
                Column("mode", "code", choices=MODES),
                Column("transit_days", "float"),
                Column("cost_per_unit", "float", min_value=0),
                Column("tariff_rate", "float", min_value=0),
                Column("customs_days", "float", min_value=0),
                Column("active", "bool", required=False, default=True),
            ),
            key=("origin", "destination", "mode"),
            references=(_site_ref("origin"), _site_ref("destination")),
            description="Transport lanes between sites, one row per mode.",
        ),
        TableSpec(
            "demand",
            (
                Column("date", "date"),
                Column("site_id", "code"),
                Column("sku", "code"),
                Column("quantity", "float", min_value=0),
                _SOURCE_SYSTEM,
            ),
            key=("date", "site_id", "sku"),
            references=(_site_ref("site_id", "market"), _sku_ref()),
            description="Demand per period (period start date), market and sku.",
        ),
        TableSpec(
            "events",
            (
                Column("date", "date"),
                Column("site_id", "code", required=False, nullable=True),
                Column("region", "code", required=False, nullable=True),
                Column("sku", "code", nullable=True),
                Column("event_type", "code", choices=EVENT_TYPES),
                Column("quantity", "float"),
            ),
            key=("date", "site_id", "region", "sku", "event_type"),
            references=(_site_ref("site_id"), _sku_ref()),
            required=False,
            description="Known demand drivers: tenders, maintenance, promotions, reimbursement.",
        ),
        TableSpec(
            "inventory",
            (
                Column("snapshot_date", "date"),
                Column("site_id", "code"),
                Column("sku", "code"),
                Column("lot", "code", nullable=True),
                Column("serial", "code", nullable=True),
                Column("expiry_date", "date", nullable=True),
                Column("quantity", "float", min_value=0),
                Column("status", "code", choices=INVENTORY_STATUSES),
                _SOURCE_SYSTEM,
            ),
            key=("site_id", "sku", "lot", "serial", "status"),
            references=(_site_ref("site_id"), _sku_ref()),
            required=False,
            description="On-hand and in-transit stock by lot, serial and expiry.",
        ),
        TableSpec(
            "movements",
            (
                Column("movement_id", "code"),
                Column("timestamp", "datetime"),
                Column("udi", "code", nullable=True),
                Column("sku", "code"),
                Column("lot", "code", nullable=True),
                Column("serial", "code", nullable=True),
                Column("from_site", "code", nullable=True),
                Column("to_site", "code", nullable=True),
                Column("quantity", "float", min_value=0),
                Column("document_id", "code"),
                _SOURCE_SYSTEM,
            ),
            key=("movement_id",),
            references=(_site_ref("from_site"), _site_ref("to_site"), _sku_ref()),
            required=False,
            description=(
                "Stock movements with their GS1 UDI. An empty from_site is a receipt "
                "from production; an empty to_site is a delivery to a customer."
            ),
        ),
        TableSpec(
            "policies",
            (
                Column("site_id", "code"),
                Column("sku", "code"),
                Column("reorder_point", "float", min_value=0),
                Column("order_up_to", "float", min_value=0),
                Column("safety_stock", "float", min_value=0),
            ),
            key=("site_id", "sku"),
            references=(_site_ref("site_id"), _sku_ref()),
            required=False,
            description="The baseline inventory policy in force today.",
        ),
        TableSpec(
            "aliases",
            (
                Column("system", "code"),
                Column("local_code", "code"),
                Column("sku", "code", nullable=True),
            ),
            key=("system", "local_code"),
            references=(_sku_ref(),),
            required=False,
            # Conflicting mappings (one local code to two skus) are a data-quality
            # finding, not a load error, so the key is not enforced here.
            unique_key=False,
            description="Local item codes of other ERP systems mapped to global skus.",
        ),
    )
}

REQUIRED_TABLES = tuple(name for name, spec in TABLES.items() if spec.required)
OPTIONAL_TABLES = tuple(name for name, spec in TABLES.items() if not spec.required)
