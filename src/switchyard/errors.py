"""The gateway's error taxonomy.

Every failure a caller can see is one of these classes; providers map their upstream's errors
onto them at the adapter boundary and nothing from httpx, aiohttp or an SDK leaks out::

    SwitchyardError
    ├── AuthenticationError        401  the caller's own key was refused
    ├── PermissionDenied           403  the caller's key may not do this
    ├── ModelNotFound              404  unknown alias, deployment or upstream model
    ├── NotFound                   404  a named key, tenant, ... (TemplateNotFound: a template)
    ├── InvalidRequest             400  names the offending field in ``param``
    │   ├── ContextLengthExceeded  400
    │   ├── ContentFiltered        400  an upstream's filter, or a guardrail on the answer
    │   │   └── ContentPolicyViolation 400  a guardrail refused the request's input
    │   └── TemplateRefused        400  a prompt template failed to render (``template_error``)
    ├── PayloadTooLarge            413
    ├── RateLimited                429  retryable, carries ``retry_after``
    │   └── LimitExceeded          429  the gateway's own limit (global, tenant, key)
    ├── QuotaExceeded              429  a dollar budget is spent (``insufficient_quota``)
    ├── Timeout                    504  retryable (an attempt or the whole deadline ran out;
    │                                   no response headers within ``first_token``)
    ├── ProviderUnavailable        503  retryable (5xx, connection errors, 529 overloaded)
    ├── UpstreamProtocolError      502  retryable (a reply we could not parse, malformed HTTP,
    │                                   a redirect, a reply over ``max_reply_bytes``)
    ├── UpstreamAuthenticationError 502 retryable (a provider refused the gateway's own
    │                                   credentials: its 401/403; code ``upstream_auth_failed``)
    ├── LimitsUnavailable          503  the limits' backend is down (policy ``closed``)
    └── NoHealthyDeployment        503  every candidate was skipped or failed

``retryable`` is a class attribute: the router fails over to the next deployment only when it is
true, never on the caller's own 4xx mistakes. An upstream's 401 or 403 says the *gateway's*
key for that provider is wrong or lacks access, not the caller's: it is a provider-side failure
(``UpstreamAuthenticationError``), which fails over and counts against the breaker; a client
sees 401/403 only for its own key.

:class:`ConfigError` stands apart: a config that cannot be used is the operator's problem at
start-up, never a caller's at request time.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pydantic import ValidationError


class SwitchyardError(Exception):
    """Base class: an error with an HTTP status, a stable code and the provider that raised it."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    error_type: ClassVar[str] = "api_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        upstream_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.param = param
        self.retry_after = retry_after
        self.upstream_status = upstream_status
        # set by the attempt loop: the deployment ("provider/model") this error came from, and,
        # on the error a request ends with, every failed attempt's error in the order they ran
        self.deployment: str | None = None
        self.attempts: list[SwitchyardError] = []

    def __str__(self) -> str:
        where = f" [{self.provider}]" if self.provider else ""
        return f"{self.message}{where}"


class AuthenticationError(SwitchyardError):
    status_code = 401
    code = "invalid_api_key"
    error_type = "authentication_error"


class PermissionDenied(SwitchyardError):
    status_code = 403
    code = "permission_denied"
    error_type = "permission_error"


class ModelNotAllowed(PermissionDenied):
    """The caller's key (its tenant's grant) does not include the model it asked for."""

    code = "model_not_allowed"


class AdminRequired(PermissionDenied):
    """A valid virtual key on a route only the master key may use."""

    code = "admin_required"


class NotFound(SwitchyardError):
    """A named thing (a key, a tenant) that does not exist, or that the caller may not see."""

    status_code = 404
    code = "not_found"
    error_type = "invalid_request_error"


class TemplateNotFound(NotFound):
    """A request named a prompt template (or a version of one) that does not exist."""

    code = "template_not_found"


class Conflict(SwitchyardError):
    """It exists already (a tenant of that name), or it is busy (a session answering another
    message)."""

    status_code = 409
    code = "conflict"
    error_type = "invalid_request_error"


class NotConfigured(SwitchyardError):
    """The feature needs a config section that is not set (keys without ``storage``)."""

    status_code = 501
    code = "not_configured"
    error_type = "invalid_request_error"


class StorageUnavailable(SwitchyardError):
    """The database behind keys or usage did not answer."""

    status_code = 503
    code = "storage_unavailable"


class ModelNotFound(SwitchyardError):
    status_code = 404
    code = "model_not_found"
    error_type = "invalid_request_error"


class InvalidRequest(SwitchyardError):
    status_code = 400
    code = "invalid_request"
    error_type = "invalid_request_error"


class ContextLengthExceeded(InvalidRequest):
    code = "context_length_exceeded"


class ContentFiltered(InvalidRequest):
    code = "content_filter"


class TemplateRefused(InvalidRequest):
    """A prompt template could not be rendered with the request's variables: it reached for
    something its sandbox refuses, produced more than its output bound, or failed on the
    values it was given. Never a 500: the template and its variables are the cause."""

    code = "template_error"


class ContentPolicyViolation(ContentFiltered):
    """A guardrail (``guardrails: [{on: input, action: block}]``) refused the request; the
    message names the guardrail, ``param`` the message it found in."""

    code = "content_policy_violation"


class PayloadTooLarge(SwitchyardError):
    status_code = 413
    code = "payload_too_large"
    error_type = "invalid_request_error"


class RateLimited(SwitchyardError):
    status_code = 429
    code = "rate_limit_exceeded"
    error_type = "rate_limit_error"
    retryable = True


class LimitExceeded(RateLimited):
    """Over one of the gateway's own limits (global, tenant, key): refused before any
    deployment is tried. ``rate_limits`` carries the numbers for OpenAI's ``x-ratelimit-*``
    headers (a :class:`~switchyard.types.ratelimits.RateLimitStatus`)."""

    retryable = False

    def __init__(
        self, message: str, *, rate_limits: Any = None, level: str = "global", **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.rate_limits = rate_limits
        self.level = level  # whose limit: global, tenant or key (a bounded metrics label)


class QuotaExceeded(SwitchyardError):
    """A dollar budget (key, tenant or alias) has no room left for this period."""

    status_code = 429
    code = "insufficient_quota"
    error_type = "insufficient_quota"

    def __init__(self, message: str, *, level: str = "tenant", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.level = level  # whose budget: key, tenant or alias (a bounded metrics label)


class ModelUnpriced(PermissionDenied):
    """A budget applies but the deployment has no price: no cost can be held on it."""

    code = "model_unpriced"


class LimitsUnavailable(SwitchyardError):
    """The limits' shared backend (Redis) is unreachable and ``on_backend_error`` is closed."""

    status_code = 503
    code = "limits_unavailable"
    error_type = "api_error"


class Timeout(SwitchyardError):
    status_code = 504
    code = "timeout"
    error_type = "timeout_error"
    retryable = True


class ProviderUnavailable(SwitchyardError):
    status_code = 503
    code = "provider_unavailable"
    error_type = "api_error"
    retryable = True


class UpstreamProtocolError(SwitchyardError):
    status_code = 502
    code = "upstream_protocol_error"
    error_type = "api_error"
    retryable = True


class UpstreamAuthenticationError(SwitchyardError):
    """A provider refused the gateway's credentials (its 401 or 403): the configuration is
    wrong, not the caller's request, so the next deployment may still answer."""

    status_code = 502
    code = "upstream_auth_failed"
    error_type = "api_error"
    retryable = True


class NoHealthyDeployment(SwitchyardError):
    status_code = 503
    code = "no_healthy_deployment"
    error_type = "api_error"


class DeadlineExceeded(Timeout):
    """The request's overall deadline ran out; unlike an attempt timeout it ends the request."""

    code = "deadline_exceeded"
    retryable = False


class ConfigError(ValueError):
    """A config that cannot be used; ``problems`` lists ``(key, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        lines = "\n".join(f"  {key}: {message}" for key, message in problems)
        super().__init__(f"invalid {source}:\n{lines}")


def protocol_error(
    what: str, exc: ValidationError, provider: str | None, *, source: str = "upstream"
) -> UpstreamProtocolError:
    """The error for a reply that failed validation against its wire model, naming where:
    ``malformed {what} from {source}: {location}: {pydantic's message}``."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return UpstreamProtocolError(
        f"malformed {what} from {source}: {where}: {error['msg']}", provider=provider
    )


# What an upstream's HTTP status means when its body says nothing finer. A provider passes its
# own statuses to :func:`status_error_class` as overrides (402 out of credit, 529 overloaded, ...).
STATUS_ERRORS: Mapping[int, type[SwitchyardError]] = MappingProxyType(
    {
        400: InvalidRequest,
        401: UpstreamAuthenticationError,
        403: UpstreamAuthenticationError,
        404: ModelNotFound,
        408: Timeout,
        413: PayloadTooLarge,
        422: InvalidRequest,
        429: RateLimited,
    }
)


def status_error_class(
    status: int, overrides: Mapping[int, type[SwitchyardError] | None] | None = None
) -> type[SwitchyardError] | None:
    """The taxonomy class an upstream HTTP status means: a provider's ``overrides`` first, then
    :data:`STATUS_ERRORS`; any other 5xx is ``ProviderUnavailable``.

    None for a status neither names (an unusual 4xx, or one an override maps to None): the
    caller decides, from what the body says or as ``InvalidRequest``.
    """
    if overrides is not None and status in overrides:
        return overrides[status]
    cls = STATUS_ERRORS.get(status)
    if cls is None and status >= 500:
        return ProviderUnavailable
    return cls


def error_for_status(
    status: int, message: str, *, provider: str | None, retry_after: float | None = None
) -> SwitchyardError:
    """The taxonomy class an upstream HTTP status means, when the body says nothing finer."""
    cls = status_error_class(status) or InvalidRequest
    return cls(message, provider=provider, retry_after=retry_after, upstream_status=status)


__all__ = [
    "STATUS_ERRORS",
    "AdminRequired",
    "AuthenticationError",
    "ConfigError",
    "Conflict",
    "ContentFiltered",
    "ContentPolicyViolation",
    "ContextLengthExceeded",
    "DeadlineExceeded",
    "InvalidRequest",
    "LimitExceeded",
    "LimitsUnavailable",
    "ModelNotAllowed",
    "ModelNotFound",
    "ModelUnpriced",
    "NoHealthyDeployment",
    "NotConfigured",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProviderUnavailable",
    "QuotaExceeded",
    "RateLimited",
    "StorageUnavailable",
    "SwitchyardError",
    "TemplateNotFound",
    "TemplateRefused",
    "Timeout",
    "UpstreamAuthenticationError",
    "UpstreamProtocolError",
    "error_for_status",
    "protocol_error",
    "status_error_class",
]
