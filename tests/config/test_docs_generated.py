"""The README settings table and the JSON schema are generated from the models."""

from __future__ import annotations

from tools import settings_doc


def test_readme_settings_table_is_current() -> None:
    text = settings_doc.README.read_text()
    assert settings_doc.render_readme(text) == text, "run: python -m tools.settings_doc --write"


def test_settings_schema_is_current() -> None:
    assert settings_doc.SCHEMA.read_text() == settings_doc.schema(), "run: python -m tools.settings_doc --write"


def test_every_setting_is_documented() -> None:
    rows = settings_doc.rows()
    assert len(rows) >= 50
    assert all(not row.endswith("|  |") for row in rows), [r for r in rows if r.endswith("|  |")]
