"""The README states what the code does: its provider table is the generated one."""

from pathlib import Path

from switchyard.providers.table import provider_table

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- provider-table:start -->"
END = "<!-- provider-table:end -->"


def test_provider_table_matches_the_adapters() -> None:
    text = README.read_text()
    assert START in text and END in text, "README lost its provider-table markers"
    current = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == provider_table(), (
        "README's provider table is stale: run `python -m switchyard.providers.table` and paste"
    )
