"""Open a regional run: parameters, data and provenance in one object for a notebook.

Every notebook starts with :func:`open_region` so that paths, parameter validation
and data loading behave the same in JupyterLab, under papermill and under nbval.

The data-quality gate (:func:`toolkit.quality.check`) runs once, here, on the whole
extract. Downstream notebooks work on ``ctx.clean`` / ``ctx.regional_clean`` (the
extract without quarantined rows), show ``ctx.gate_banner_html()`` at the top and
call ``ctx.require_gate()``, which stops them with :class:`~toolkit.quality.GateFailed`
when the gate failed and ``quality.proceed_with_warnings`` is false.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from toolkit.config import Params, load_params, params_fingerprint
from toolkit.data import load_dataset, subset_to_region
from toolkit.dataset import Dataset
from toolkit.paths import resolve_path
from toolkit.quality import GateFailed, QualityReport, check
from toolkit.report import banner_html, provenance

__all__ = ["GateFailed", "RegionContext", "open_region"]


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
    quality : QualityReport
        The data-quality gate on the whole extract (see :mod:`toolkit.quality`).
    clean : Dataset
        The whole extract without its quarantined rows.
    regional_clean : Dataset
        ``clean`` restricted to the region like ``regional``.
    """

    params: Params
    params_path: Path
    dataset: Dataset
    regional: Dataset
    report_dir: str
    data_source: str
    quality: QualityReport
    clean: Dataset
    regional_clean: Dataset

    @property
    def region(self) -> str:
        return self.params.region

    @property
    def currency(self) -> str:
        return self.params.report.currency

    @property
    def params_fingerprint(self) -> str:
        return params_fingerprint(self.params)

    @property
    def proceeds(self) -> bool:
        """Whether downstream steps run: the gate passed, or the parameters say to go on."""
        return self.quality.passed or self.params.quality.proceed_with_warnings

    def gate_banner_html(self) -> str:
        """Return a banner saying the data-quality gate failed and why; empty when it passed.

        Downstream notebooks display it first, so a reader of any report sees that
        its figures rest on data that failed the gate (and without which rows).
        """
        if self.quality.passed:
            return ""
        reasons = "; ".join(self.quality.reasons)
        held = self.quality.rows_quarantined()
        if self.proceeds:
            consequence = (
                f"{held:,} rows are quarantined until they are fixed at the source; planning "
                "results leave them out (the data-quality report, 01_data_quality, lists them)."
            )
        else:
            consequence = (
                "Downstream steps are stopped until the data are fixed "
                "(quality.proceed_with_warnings is false)."
            )
        return banner_html("Data-quality gate failed", f"{reasons}. {consequence}", tone="bad")

    def require_gate(self) -> None:
        """Stop a downstream notebook when the gate failed and the parameters say not to proceed.

        Raises
        ------
        GateFailed
            With the gate's verdict, so the pipeline's index shows the reason.
        """
        if not self.proceeds:
            raise GateFailed(
                f"{self.quality.verdict} Downstream steps stop here because "
                "quality.proceed_with_warnings is false."
            )

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
    quality = check(dataset, thresholds=params.quality)
    return RegionContext(
        params=params,
        params_path=resolve_path(params_path),
        dataset=dataset,
        regional=subset_to_region(dataset, params.region),
        report_dir=report_dir,
        data_source=location,
        quality=quality,
        clean=quality.clean,
        regional_clean=subset_to_region(quality.clean, params.region),
    )
