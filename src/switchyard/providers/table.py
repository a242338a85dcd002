"""The README's provider table, rendered from each adapter's declared capabilities.

``python -m switchyard.providers.table`` prints it; ``tests/test_readme.py`` fails when the
README's copy differs from what the code declares.
"""

from __future__ import annotations

from switchyard.providers.registry import ADAPTERS, provider_class

COLUMNS = (
    ("chat", "chat"),
    ("stream", "stream"),
    ("tools", "tools"),
    ("vision", "vision"),
    ("documents", "documents"),
    ("JSON", "json_mode"),
    ("embeddings", "embeddings"),
    ("list models", "list_models"),
)


def provider_table() -> str:
    header = "| type | " + " | ".join(title for title, _ in COLUMNS) + " |"
    rule = "|" + "---|" * (len(COLUMNS) + 1)
    rows = [header, rule]
    for type_name in ADAPTERS:
        capabilities = provider_class(type_name).capabilities
        marks = ("yes" if getattr(capabilities, field) else "—" for _, field in COLUMNS)
        rows.append(f"| `{type_name}` | " + " | ".join(marks) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(provider_table())
