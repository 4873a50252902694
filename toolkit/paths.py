"""Where things live, resolved independently of the current working directory.

papermill runs kernels in the caller's directory and nbval in the notebook's
folder, so every relative path a user or a params file gives is resolved here,
against the project root.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "NOTEBOOKS_DIR",
    "PARAMS_DIR",
    "REPORTS_DIR",
    "SAMPLE_DATA_DIR",
    "resolve_path",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
PARAMS_DIR = PROJECT_ROOT / "params"
REPORTS_DIR = PROJECT_ROOT / "reports"
SAMPLE_DATA_DIR = PROJECT_ROOT / "data_samples" / "medtech_demo"


def resolve_path(path: str | Path, base: Path = PROJECT_ROOT) -> Path:
    """Return ``path`` made absolute against ``base`` (the project root by default).

    Parameters
    ----------
    path : str or Path
        An absolute path, or one relative to ``base``. ``~`` is expanded.
    base : Path
        Folder that relative paths are taken from.

    Returns
    -------
    Path
        The absolute path (not required to exist).

    Examples
    --------
    >>> resolve_path("/tmp/x").as_posix()
    '/tmp/x'
    """
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate).resolve()
