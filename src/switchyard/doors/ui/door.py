"""The web dashboard at ``/ui``: server-rendered pages over the Gateway's queries.

Authentication is a login form, not a header: the key (master or virtual) is checked once by
the app's :class:`~switchyard.doors.http.Authenticator` and the caller it names is kept in a
server-side session (:mod:`switchyard.doors.ui.sessions`); the browser holds an opaque cookie
(``HttpOnly``, ``SameSite=Strict``, ``Secure`` when served over TLS, ``Path=/ui``). Every POST
carries the session's CSRF token (a form field, or ``x-csrf-token`` for the playground); the
login form has its own (a double-submit cookie). The app's guard leaves ``/ui`` to this door.

Pages answer with a strict Content-Security-Policy (no inline script, nothing from another
origin): htmx and Chart.js are vendored under ``static/vendor`` with their licences.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from switchyard.config.schema import ServerSettings
from switchyard.doors.http import Authenticator, ClientDisconnected, read_body, request_id
from switchyard.doors.ui import actions, pages, playground, views
from switchyard.doors.ui.sessions import COOKIE, LOGIN_COOKIE, Session, SessionStore
from switchyard.doors.ui.visit import Visit
from switchyard.errors import InvalidRequest, SwitchyardError
from switchyard.gateway import Gateway

PREFIX = "/ui"
MAX_FORM_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
STATIC_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".md": "text/plain",
    ".txt": "text/plain",
}

Page = Callable[[Gateway, Visit], Awaitable[str]]
Action = Callable[[Gateway, Visit, dict[str, str]], Awaitable[str]]


class DashboardDoor:
    recheck_seconds = 5.0  # how often a virtual key's session checks the key is still live

    def __init__(self, gateway: Gateway, settings: ServerSettings, auth: Authenticator) -> None:
        self.gateway = gateway
        self.auth = auth
        self.sessions = SessionStore()
        self.body_timeout = settings.body_timeout_seconds
        self._static: dict[str, tuple[bytes, str]] | None = None

    def routes(self) -> list[BaseRoute]:
        def show(title: str, render: Page, path: str) -> Route:
            return Route(path, self._page(title, render, path), methods=["GET"])

        def act(path: str, run: Action, back: str) -> Route:
            return Route(path, self._action(run, back), methods=["POST"])

        return [
            Route(PREFIX, self.home, methods=["GET"]),
            Route(f"{PREFIX}/login", self.login_form, methods=["GET"]),
            Route(f"{PREFIX}/login", self.login, methods=["POST"]),
            Route(f"{PREFIX}/logout", self.logout, methods=["POST"]),
            Route(f"{PREFIX}/static/{{path:path}}", self.static, methods=["GET"]),
            show("Providers", pages.providers, f"{PREFIX}/providers"),
            Route(
                f"{PREFIX}/providers/table", self._fragment(pages.providers_table), methods=["GET"]
            ),
            show("Usage", pages.usage, f"{PREFIX}/usage"),
            show("Limits and budgets", pages.limits, f"{PREFIX}/limits"),
            Route(f"{PREFIX}/limits/table", self._fragment(pages.limits_table), methods=["GET"]),
            show("Recent errors", pages.errors, f"{PREFIX}/errors"),
            show("Keys", pages.keys, f"{PREFIX}/keys"),
            show("Tenants", pages.tenants, f"{PREFIX}/tenants"),
            show("Playground", pages.playground, f"{PREFIX}/playground"),
            act(
                f"{PREFIX}/providers/{{name}}/test",
                lambda g, v, p: actions.test_provider(g, v, p["name"]),
                f"{PREFIX}/providers",
            ),
            act(f"{PREFIX}/keys", lambda g, v, p: actions.create_key(g, v), f"{PREFIX}/keys"),
            act(
                f"{PREFIX}/keys/{{id}}/revoke",
                lambda g, v, p: actions.revoke_key(g, v, p["id"]),
                f"{PREFIX}/keys",
            ),
            act(
                f"{PREFIX}/tenants",
                lambda g, v, p: actions.create_tenant(g, v),
                f"{PREFIX}/tenants",
            ),
            act(
                f"{PREFIX}/tenants/{{name}}/delete",
                lambda g, v, p: actions.delete_tenant(g, v, p["name"]),
                f"{PREFIX}/tenants",
            ),
            Route(f"{PREFIX}/playground/stream", self.stream, methods=["POST"]),
        ]

    # -- login ------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        visit = await self._visit(request)
        if visit is None:
            return _redirect(f"{PREFIX}/login")
        return _redirect(f"{PREFIX}/providers" if visit.admin else f"{PREFIX}/usage")

    async def login_form(self, request: Request, problem: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        status = 200 if problem is None else 401
        response = HTMLResponse(views.login_page(token, problem), status, headers=SECURITY_HEADERS)
        _cookie(response, request, LOGIN_COOKIE, token, f"{PREFIX}/login")
        return response

    async def login(self, request: Request) -> Response:
        try:
            form = await self._form(request)
        except (InvalidRequest, ClientDisconnected):
            return await self.login_form(request, "the form could not be read")
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(
            form.get("csrf", "").encode(), expected.encode()
        ):
            return await self.login_form(request, "the login form expired: try again")
        key = form.get("key", "").strip().encode()
        try:
            principal = await self.auth.authenticate(b"Bearer " + key if key else None, None, "")
        except SwitchyardError as refused:
            return await self.login_form(request, refused.message)
        self.sessions.close(request.cookies.get(COOKIE))  # a new session at each login
        token, _ = self.sessions.open(principal._replace(request_id=""))
        response = _redirect(f"{PREFIX}/providers" if principal.admin else f"{PREFIX}/usage")
        _cookie(response, request, COOKIE, token, PREFIX)
        response.delete_cookie(LOGIN_COOKIE, path=f"{PREFIX}/login")
        return response

    async def logout(self, request: Request) -> Response:
        visit = await self._visit(request)
        if visit is not None:
            form = await self._form(request)
            if not visit.session.checks(form.get("csrf")):
                return _forbidden("the form's CSRF token is missing or wrong")
            self.sessions.close(request.cookies.get(COOKIE))
        response = _redirect(f"{PREFIX}/login")
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    # -- pages and actions ------------------------------------------------------------------

    def _page(
        self, title: str, render: Page, path: str
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            visit = await self._visit(request)
            if visit is None:
                return _redirect(f"{PREFIX}/login")
            try:
                body = await render(self.gateway, visit)
            except SwitchyardError as error:
                body = f'<p class="problem" role="alert">{views.esc(error.message)}</p>'
                status = error.status_code
            else:
                status = 200
            html = views.page(
                title,
                body,
                path=path,
                admin=visit.admin,
                who=visit.who(),
                csrf=visit.csrf,
                flash=visit.session.told(),
            )
            return HTMLResponse(html, status, headers=SECURITY_HEADERS)

        return endpoint

    def _fragment(self, render: Page) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            visit = await self._visit(request)
            if visit is None:
                return _forbidden("log in again: the session ended")
            try:
                body = await render(self.gateway, visit)
            except SwitchyardError as error:
                return HTMLResponse(
                    views.esc(error.message), error.status_code, headers=SECURITY_HEADERS
                )
            return HTMLResponse(body, headers=SECURITY_HEADERS)

        return endpoint

    def _action(self, run: Action, back: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            visit = await self._visit(request)
            if visit is None:
                return _forbidden("log in first")
            try:
                visit.form = await self._form(request)
            except ClientDisconnected:
                return Response(status_code=499)
            except InvalidRequest as error:
                return _forbidden(error.message, error.status_code)
            if not visit.session.checks(visit.form.get("csrf")):
                return _forbidden("the form's CSRF token is missing or wrong")
            try:
                visit.session.tell(await run(self.gateway, visit, dict(request.path_params)))
            except SwitchyardError as error:
                visit.session.tell(f"refused: {error.message}")
            return _redirect(back)

        return endpoint

    async def stream(self, request: Request) -> Response:
        visit = await self._visit(request)
        if visit is None:
            return _forbidden("log in first")
        if not visit.session.checks(request.headers.get("x-csrf-token")):
            return _forbidden("the x-csrf-token header is missing or wrong")
        try:
            body = orjson.loads(await read_body(request, MAX_FORM_BYTES, self.body_timeout))
            if not isinstance(body, dict):
                raise InvalidRequest("the body must be a JSON object", param="body")
            return await playground.open_stream(self.gateway, visit, body)
        except orjson.JSONDecodeError:
            return _forbidden("the body is not JSON", 400)
        except SwitchyardError as error:
            return _forbidden(error.message, error.status_code)
        except ClientDisconnected:
            return Response(status_code=499)

    # -- shared -----------------------------------------------------------------------------

    async def _visit(self, request: Request) -> Visit | None:
        """The request's session, or None (no cookie, an unknown or expired session, or a
        virtual key revoked, expired or deleted since the login: checked again every
        :attr:`recheck_seconds`, and its grant refreshed)."""
        token = request.cookies.get(COOKIE)
        session = self.sessions.get(token)
        if session is None:
            return None
        principal = session.principal
        if principal.key_id is not None and not principal.admin:
            now = time.monotonic()
            if now - session.checked >= self.recheck_seconds:
                if not await self._still_valid(session):
                    self.sessions.close(token)
                    return None
                session.checked = now
        return Visit(session, session.principal._replace(request_id=request_id(None)))

    async def _still_valid(self, session: Session) -> bool:
        accounts, key_id = self.gateway.accounts, session.principal.key_id
        if accounts is None or key_id is None:
            return False
        found = await accounts.resolve(key_id)
        if found is None:
            return False
        row, grant = found
        if row.revoked_at is not None:
            return False
        if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
            return False
        session.principal = session.principal._replace(grant=grant)
        return True

    async def _form(self, request: Request) -> dict[str, str]:
        raw = await read_body(request, MAX_FORM_BYTES, self.body_timeout)
        try:
            return dict(parse_qsl(raw.decode("utf-8"), max_num_fields=32))
        except (UnicodeDecodeError, ValueError):
            raise InvalidRequest("the form is not URL-encoded UTF-8", param="body") from None

    async def static(self, request: Request) -> Response:
        if self._static is None:
            self._static = _load_static()
        found = self._static.get(request.path_params["path"])
        if found is None:
            return Response(b"not found", 404, media_type="text/plain")
        content, media = found
        return Response(
            content, media_type=media, headers={"cache-control": "public, max-age=3600"}
        )


def _load_static() -> dict[str, tuple[bytes, str]]:
    """Every file under ``static/`` (read once): the only paths ``/ui/static/`` serves."""
    root = files("switchyard.doors.ui").joinpath("static")
    found: dict[str, tuple[bytes, str]] = {}

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, name + "/")
            else:
                suffix = "." + child.name.rsplit(".", 1)[-1]
                found[name] = (
                    child.read_bytes(),
                    STATIC_TYPES.get(suffix, "application/octet-stream"),
                )

    walk(root, "")
    return found


def _cookie(response: Response, request: Request, name: str, value: str, path: str) -> None:
    response.set_cookie(
        name,
        value,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers={"cache-control": "no-store"})


def _forbidden(message: str, status: int = 403) -> Response:
    return Response(message, status, media_type="text/plain", headers={"cache-control": "no-store"})


__all__ = ["PREFIX", "DashboardDoor"]
