"""Parse and validate each distinct GraphQL document once, and bound what a document may ask.

Parsing and validating a document cost several times what the rest of a completion costs in
the gateway; clients send the same few documents again and again (the values travel as
variables). :class:`DocumentCache` keeps the parsed document and its validation errors of the
last :data:`CACHED_DOCUMENTS` documents up to :data:`MAX_CACHED_CHARS` characters, keyed by
their text; a longer one (a prompt written into the document) is parsed and validated every
time, so the cache holds at most a few megabytes.

:data:`LIMITS` are the validation rules every document must pass: at most :data:`MAX_ALIASES`
aliases (each alias of ``complete`` is one more upstream call) and a depth of
:data:`MAX_DEPTH`. They are built once: the cache's key includes the rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases
from strawberry.extensions.query_depth_limiter import create_validator as max_depth
from strawberry.schema.schema import validate_document

MAX_ALIASES = 15  # so at most 16 completions in one document
MAX_DEPTH = 8  # the schema has no recursion: its deepest useful query is 4
CACHED_DOCUMENTS = 256
MAX_CACHED_CHARS = 8192

LIMITS: tuple[type[ASTValidationRule], ...] = (
    max_aliases(MAX_ALIASES),
    max_depth(MAX_DEPTH, None),
)


def limits() -> AddValidationRules:
    return AddValidationRules(list(LIMITS))


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parsed(query: str) -> DocumentNode:
    return parse(query)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _errors(
    schema: GraphQLSchema, query: str, rules: tuple[type[ASTValidationRule], ...]
) -> tuple[GraphQLError, ...]:
    return tuple(validate_document(schema, _parsed(query), rules))


class DocumentCache(SchemaExtension):
    def __init__(self) -> None:
        self.cached = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and len(query) <= MAX_CACHED_CHARS and not context.parse_options:
            try:
                context.graphql_document = _parsed(query)
                self.cached = True
            except GraphQLError:  # not cached: Strawberry parses it again and says why
                pass
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.cached and context.query is not None:
            errors = _errors(context.schema._schema, context.query, context.validation_rules)
            context.pre_execution_errors = list(errors)
        yield


__all__ = [
    "CACHED_DOCUMENTS",
    "LIMITS",
    "MAX_ALIASES",
    "MAX_CACHED_CHARS",
    "MAX_DEPTH",
    "DocumentCache",
    "limits",
]
