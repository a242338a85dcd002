"""A caller's request body read field by field, as every door's translator does it: the error
that names a field by its path in the caller's own body (``messages[1].content[0].text``), and
the typed reads the doors share. Pure."""

from __future__ import annotations

from typing import Any

from switchyard.errors import InvalidRequest


def invalid(param: str, problem: str) -> InvalidRequest:
    """400 ``invalid_request_error`` whose ``param`` is the field's path."""
    return InvalidRequest(f"{param}: {problem}", param=param)


def string_at(block: dict[str, Any], key: str, where: str) -> str:
    """``block[key]`` when it is a string; else 400 naming ``where.key``."""
    value = block.get(key)
    if not isinstance(value, str):
        raise invalid(f"{where}.{key}", "a string is required")
    return value


def optional_string_at(block: dict[str, Any], key: str, where: str) -> str | None:
    """``block[key]`` when it is a string, None when it is absent or null; else 400."""
    value = block.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{where}.{key}", "must be a string")
    return value


def data_url_type(url: str) -> str | None:
    """The media type of a ``data:<type>;base64,<data>`` URL; None for anything else."""
    header, comma, data = url.partition(",")
    media_type, _, encoding = header.removeprefix("data:").partition(";")
    if not url.startswith("data:") or not comma or encoding != "base64" or not media_type:
        return None
    return media_type if data else None


__all__ = ["data_url_type", "invalid", "optional_string_at", "string_at"]
