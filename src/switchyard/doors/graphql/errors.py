"""The error taxonomy as GraphQL errors, in one place.

Every error a client sees carries ``extensions: {code, type, status}`` (plus ``param`` and
``retryAfter`` when the error has them): the same code, type and HTTP status the OpenAI door
answers with. A syntax or validation error of the document is ``invalid_request`` (400). An
exception that is not in the taxonomy is a bug: it is logged with its traceback and request id
(:func:`log_unexpected`), and the client sees ``internal_error`` and that id, never the
exception's text or a stack trace.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from switchyard.doors.errors import internal_error
from switchyard.doors.graphql.wire import extensions
from switchyard.doors.http import ClientDisconnected, report_unexpected
from switchyard.errors import InvalidRequest, SwitchyardError


def failure_of(error: GraphQLError, request_id: str) -> SwitchyardError:
    """The taxonomy error ``error`` stands for."""
    original = error.original_error
    if isinstance(original, SwitchyardError):
        return original
    if original is None or isinstance(original, GraphQLError):  # the document's own fault
        return InvalidRequest(error.message)
    return internal_error(request_id)


def unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(
        original, (SwitchyardError, GraphQLError, ClientDisconnected)
    )


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    for error in errors:
        if unexpected(error):
            assert error.original_error is not None
            report_unexpected(error.original_error, request_id, "a GraphQL resolver")


def rendered(error: GraphQLError, request_id: str) -> GraphQLError:
    failure = failure_of(error, request_id)
    return GraphQLError(
        failure.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions(failure),
    )


class TaxonomyErrors(MaskErrors):
    """A schema extension that renders every error of a result (plain or streamed) through
    :func:`rendered`."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        return rendered(error, getattr(context, "request_id", ""))


__all__ = ["TaxonomyErrors", "failure_of", "log_unexpected", "rendered"]
