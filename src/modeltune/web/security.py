"""Who may use the server: a token off loopback, a login cookie for the console, no cross-site writes.

- Bound to any address but loopback, the server needs a token (``check_exposure``).
- With a token, API clients send ``Authorization: Bearer <token>``; the console's login page sets an
  HttpOnly, SameSite=Strict cookie holding an HMAC of the token (so it survives a server restart and
  never holds the token itself).
- Requests that change something are refused when a browser says they come from another site
  (``Origin`` or ``Sec-Fetch-Site``), with or without a token: a page on another site must not be
  able to stop a job on a server listening on the user's own loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from modeltune.errors import ModeltuneError

COOKIE = "modeltune_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = ("/login", "/static/")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to serve on a non-loopback address without a token.

    Raises:
        ModeltuneError: ``host`` is reachable from other machines and no token is set.
    """
    if token is None and not is_loopback(host):
        raise ModeltuneError(
            f"serving on {host} lets other machines in, so it needs a token: pass --token (or set "
            "MODELTUNE_SERVER_TOKEN), or serve on 127.0.0.1"
        )
    if token is not None and len(token) < 8:
        raise ModeltuneError("the token is too short to guess-proof the server; use at least 8 characters")


def session_value(token: str) -> str:
    """The console cookie's value for ``token``: an HMAC, so the cookie never carries the token."""
    return hmac.new(token.encode(), b"modeltune console session", hashlib.sha256).hexdigest()


def _cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not a browser request from a page (curl, httpx, the CLI)
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin != own


def _authenticated(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), session_value(token).encode())


def guard(token: str | None) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """The HTTP middleware enforcing the rules above."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if request.method not in SAFE_METHODS and _cross_site(request):
            return JSONResponse(
                {"detail": "cross-site request refused: changes come only from the console's own pages or API clients"},
                status_code=403,
            )
        if token is None or path.startswith(PUBLIC_PATHS) or _authenticated(request, token):
            return await call_next(request)
        if path.startswith(("/api/", "/docs", "/openapi.json", "/redoc")):
            return JSONResponse(
                {"detail": "this server needs its token: send the header 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    return middleware
