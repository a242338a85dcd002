"""Which deployments can serve a request at all: capabilities and context window.

A deployment is skipped, with a reason, when its model (per the catalog) or its adapter (per its
declared capabilities, unless ``drop_unsupported``) cannot take the request's images,
documents, tools or JSON response format, when it is an embedding model asked to chat or the
reverse, or when the request's input tokens plus its requested output exceed the model's
context window. A model the catalog marks without vision is taken not to read documents either
(OpenAI, Anthropic and Gemini read a PDF's pages as images); an adapter that takes documents
only as data (OpenAI's chat completions) is skipped for one given by URL. Models the catalog
does not know are assumed able. When nothing is left, the caller gets a 400 that says why for
each deployment (naming the first document, for those that cannot take it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from switchyard.errors import ContextLengthExceeded, InvalidRequest
from switchyard.routing.candidate import Candidate
from switchyard.routing.tokens import TokenCounter, encoding_name
from switchyard.types import ChatRequest, FilePart, ImagePart


@dataclass(slots=True)
class ChatNeeds:
    """What a chat request asks of a deployment, derived once per request."""

    request: ChatRequest
    images: bool
    document: str | None  # where the first document stands, and its type; None: none
    document_urls: bool  # a document is given by its URL
    tools: bool
    json: bool
    output_tokens: int
    upper_bound: int
    counts: dict[str | None, int] = field(default_factory=dict)

    @classmethod
    def of(cls, request: ChatRequest, counter: TokenCounter) -> ChatNeeds:
        images = any(
            isinstance(m.content, list) and any(isinstance(p, ImagePart) for p in m.content)
            for m in request.messages
        )
        files = [
            (f"messages[{i}].content[{j}]", part)
            for i, m in enumerate(request.messages)
            if isinstance(m.content, list)
            for j, part in enumerate(m.content)
            if isinstance(part, FilePart)
        ]
        fmt = request.response_format
        return cls(
            request=request,
            images=images,
            document=f"{files[0][0]}, {files[0][1].mime_type}" if files else None,
            document_urls=any(not part.is_data_url for _, part in files),
            tools=bool(request.tools),
            json=fmt is not None and fmt.type != "text",
            output_tokens=request.max_tokens or 0,
            upper_bound=counter.upper_bound(request),
        )

    def input_tokens(self, model: str, counter: TokenCounter) -> int:
        key = encoding_name(model)
        if key not in self.counts:
            self.counts[key] = counter.count(self.request, model)
        return self.counts[key]


def why_unfit(candidate: Candidate, needs: ChatNeeds, counter: TokenCounter) -> str | None:
    """None when ``candidate`` can serve the request, else the reason it cannot."""
    adapter = candidate.provider.capabilities
    lenient = candidate.provider.settings.drop_unsupported
    info = candidate.info
    model_caps = info.capabilities if info is not None else None
    if info is not None and info.mode == "embedding":
        return "is an embedding model"
    if needs.images and (not (adapter.vision or lenient) or (model_caps and not model_caps.vision)):
        return "does not accept images"
    if needs.document is not None and (
        not (adapter.documents or lenient) or (model_caps and not model_caps.vision)
    ):
        return f"does not accept documents ({needs.document})"
    if needs.document_urls and adapter.documents and not candidate.provider.takes_document_urls():
        return "takes documents only as data, not by URL"
    if needs.tools and (not (adapter.tools or lenient) or (model_caps and not model_caps.tools)):
        return "does not support tools"
    json_ok = adapter.json_mode or lenient
    if needs.json and (not json_ok or (model_caps and not model_caps.json_mode)):
        return "does not support JSON response formats"
    if info is not None:
        window = info.context_window
        if needs.upper_bound + needs.output_tokens > window:
            tokens = needs.input_tokens(candidate.model, counter)
            if tokens + needs.output_tokens > window:
                return (
                    f"context window {window:,} < {tokens:,} input + "
                    f"{needs.output_tokens:,} output tokens"
                )
    return None


def eligible(
    alias: str, candidates: Sequence[Candidate], needs: ChatNeeds, counter: TokenCounter
) -> list[Candidate]:
    """The candidates that can serve the request, in the given order; 400 when none can."""
    fit: list[Candidate] = []
    reasons: list[str] = []
    for candidate in candidates:
        reason = why_unfit(candidate, needs, counter)
        if reason is None:
            fit.append(candidate)
        else:
            reasons.append(f"{candidate.key} {reason}")
    if fit:
        return fit
    message = f"no deployment of {alias!r} can serve this request: " + "; ".join(reasons)
    if all("context window" in r for r in reasons):
        raise ContextLengthExceeded(message, param="messages")
    raise InvalidRequest(message, param="model")


def eligible_for_embeddings(alias: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    fit = [
        c
        for c in candidates
        if c.provider.capabilities.embeddings and (c.info is None or c.info.mode == "embedding")
    ]
    if not fit:
        names = ", ".join(c.key for c in candidates)
        raise InvalidRequest(
            f"no deployment of {alias!r} serves embeddings ({names})", param="model"
        )
    return fit


__all__ = ["ChatNeeds", "eligible", "eligible_for_embeddings", "why_unfit"]
