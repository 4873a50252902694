"""Global multi-echelon inventory optimization toolkit for medical-device networks.

The package follows one direction of data flow (see ``docs/architecture.md``)::

    data -> quality -> network -> segment -> forecast -> optimize -> simulate -> kpi/roi -> report

Each stage is a module of plain functions over DataFrames, graphs and frozen
dataclasses; notebooks in ``notebooks/`` call them and show the results.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("medtech-inventory-toolkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
