"""Seeded synthetic ERP extract of a multinational medical-device maker.

:func:`generate` returns the canonical tables (see :mod:`toolkit.schema`) and a
manifest; :func:`write_extract` writes them as ``<table>.csv`` (or ``.parquet`` for
big tables) plus ``defects_manifest.json``. The command line does both::

    python -m toolkit.synth --seed 7 --defects --out data_samples/medtech_demo

Everything is fixed by the seed and the sizes: the calendar ends at
:data:`SNAPSHOT_DATE` whatever today's date is.
"""

from toolkit.synth.build import GENERATOR_VERSION, ExtractManifest, generate
from toolkit.synth.defects import DEFECT_KINDS, Defect, DefectCounts
from toolkit.synth.extract import MANIFEST_FILE, choose_formats, write_extract
from toolkit.synth.geography import SECOND_ERP_SYSTEM
from toolkit.synth.timeline import SNAPSHOT_DATE

__all__ = [
    "DEFECT_KINDS",
    "GENERATOR_VERSION",
    "MANIFEST_FILE",
    "SECOND_ERP_SYSTEM",
    "SNAPSHOT_DATE",
    "Defect",
    "DefectCounts",
    "ExtractManifest",
    "choose_formats",
    "generate",
    "write_extract",
]
