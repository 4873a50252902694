"""Open a regional run: parameters, data and provenance in one object for a notebook.

Every notebook starts with :func:`open_region` so that paths, parameter validation
and data loading behave the same in JupyterLab, under papermill and under nbval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit.config import Params, load_params, params_fingerprint
from toolkit.data import load_dataset, subset_to_region
from toolkit.dataset import Dataset
from toolkit.paths import resolve_path
from toolkit.report import provenance

__all__ = ["RegionContext", "open_region"]


@dataclass(frozen=True)
class RegionContext:
    """What a regional notebook works with.

    Attributes
    ----------
    params : Params
        Validated parameters (defaults merged with the region file).
    params_path : Path
    dataset : Dataset
        The whole extract as loaded (the network is global).
    regional : Dataset
        The region's markets plus every plant and DC (see
        :func:`toolkit.data.subset_to_region`).
    report_dir : str
        Where the pipeline collects this region's outputs; empty when interactive.
    data_source : str
    """

    params: Params
    params_path: Path
    dataset: Dataset
    regional: Dataset
    report_dir: str
    data_source: str

    @property
    def region(self) -> str:
        return self.params.region

    @property
    def currency(self) -> str:
        return self.params.report.currency

    @property
    def params_fingerprint(self) -> str:
        return params_fingerprint(self.params)

    def provenance(self) -> pd.DataFrame:
        """Return the provenance table (versions, fingerprints, seed) for the report."""
        return provenance(
            region=self.region,
            params_fingerprint=self.params_fingerprint,
            data_fingerprint=self.dataset.fingerprint,
            data_source=self.dataset.source,
            seed=self.params.run.seed,
        )


def open_region(params_path: str, data_source: str = "", report_dir: str = "") -> RegionContext:
    """Load a region's parameters and data.

    Parameters
    ----------
    params_path : str
        Region parameters file (relative paths are taken from the project root).
    data_source : str
        Overrides ``data.source`` of the parameters when not empty (a folder or a
        database URL).
    report_dir : str
        The pipeline's output folder for this region; empty in interactive use.

    Returns
    -------
    RegionContext
    """
    params = load_params(params_path)
    source = data_source or params.data.source
    location = source if "://" in source else str(resolve_path(source))
    dataset = load_dataset(location)
    return RegionContext(
        params=params,
        params_path=resolve_path(params_path),
        dataset=dataset,
        regional=subset_to_region(dataset, params.region),
        report_dir=report_dir,
        data_source=location,
    )
