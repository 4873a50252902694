"""The registry of data-quality rules: every named rule, in report order.

Each rule is documented by its function's docstring (``RULES[name].description``);
:func:`rules_table` lists them for a report. Errors quarantine the rows they fail
(``Rule.quarantines`` says which); warnings are reported and counted against the
gate's thresholds but leave the rows in the clean data.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from toolkit.quality_base import Rule
from toolkit.quality_items import ITEM_RULES
from toolkit.quality_stock import STOCK_RULES
from toolkit.quality_udi import UDI_RULES

__all__ = ["ITEM_LEVEL_RULES", "RULES", "rules_table", "select_rules"]

#: Every rule by name, in the order reports list them.
RULES: dict[str, Rule] = {r.name: r for r in (*ITEM_RULES, *UDI_RULES, *STOCK_RULES)}

#: Rules whose quarantined item rows take every row referring to the item with them.
ITEM_LEVEL_RULES = frozenset({"gtin_invalid", "gtin_duplicate", "item_controls_contradicted"})


def select_rules(names: Iterable[str] | None = None) -> list[Rule]:
    """Return the rules called ``names`` (all when None), in registry order.

    Raises
    ------
    KeyError
        Naming every unknown rule and listing the known ones.
    """
    if names is None:
        return list(RULES.values())
    wanted = [names] if isinstance(names, str) else list(names)
    unknown = [name for name in wanted if name not in RULES]
    if unknown:
        raise KeyError(f"unknown quality rule(s) {unknown}; known: {', '.join(RULES)}")
    return [r for name, r in RULES.items() if name in set(wanted)]


def rules_table() -> pd.DataFrame:
    """Return every rule: name, short label (``check``), severity, tables, what it quarantines, summary."""
    return pd.DataFrame(
        [
            {
                "rule": r.name,
                "check": r.label,
                "severity": r.severity,
                "tables": ", ".join(r.tables),
                "quarantines": r.quarantines or "nothing (reported only)",
                "description": r.summary,
            }
            for r in RULES.values()
        ]
    )
