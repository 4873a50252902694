"""The docs say what the code does: every canonical table and column is documented."""

from __future__ import annotations

from toolkit.paths import PROJECT_ROOT
from toolkit.schema import TABLES


def test_data_model_doc_lists_every_table_and_column() -> None:
    text = (PROJECT_ROOT / "docs" / "data_model.md").read_text()
    for spec in TABLES.values():
        assert f"## {spec.name}" in text, spec.name
        section = text.split(f"## {spec.name}", 1)[1].split("\n## ", 1)[0]
        for column in spec.columns:
            assert f"| {column.name} | {column.kind} |" in section, (spec.name, column.name)


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make test" in ci
