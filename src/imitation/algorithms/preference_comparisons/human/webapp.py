"""The web page that asks a person for preferences, and the server running it.

A small Starlette application, served by uvicorn on a background thread.
Routes (every one needs ``?token=<session token>``):

* ``GET /``: the page (``page.html``, plain HTML and JavaScript);
* ``GET /api/next``: progress and the next pair ready to be shown;
* ``GET /video/{pair_id}/{left|right}``: a pair's rendered fragment;
* ``POST /api/answer``: ``{"pair_id": int, "choice": "left"|"right"|"equal"|"skip"}``.

Requests without the right token get 403. Videos are looked up by pair id in
the session: no part of a request is ever used as a file path. Answers must be
sent as ``application/json`` (415 otherwise): a browser can post ``text/plain``,
form or untyped bodies to another site without asking it first, JSON only
after a CORS preflight this server never grants.
"""

from __future__ import annotations

import importlib.resources
import json
import pathlib
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from imitation.algorithms.preference_comparisons.human.answer_log import CHOICES, SIDES

_MAX_BODY = 1024
# Ids in URLs: at most 18 digits, so parsing one is cheap and never hits
# Python's limit on the digits of an int.
_ID_PATTERN = re.compile(r"[0-9]{1,18}")
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "media-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


class PreferenceSession(Protocol):
    """What the web app asks of the gatherer behind it."""

    def status(self) -> dict[str, Any]:
        """Progress, and the next pair ready to show (JSON-able)."""

    def video_path(self, pair_id: int, side: str) -> pathlib.Path | None:
        """The rendered fragment of a pair asked and unanswered, if ready."""

    def submit(self, pair_id: int, choice: str) -> dict[str, Any]:
        """Record an answer (durably); returns the new progress.

        Raises ``KeyError`` for a pair never shown (by ``status``) this run,
        ``ValueError`` for one answered already.
        """


class TokenMiddleware:
    """Refuses (403) every request whose ``token`` query parameter is wrong."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        """Wrap ``app``; requests must carry ``token``."""
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on if its token matches (compared in constant time)."""
        if scope["type"] == "http":
            given = Request(scope).query_params.get("token", "")
            if not secrets.compare_digest(given.encode(), self._token):
                response = Response(
                    "Missing or wrong session token: open the URL the run printed.",
                    status_code=403,
                    media_type="text/plain",
                    headers=_SECURITY_HEADERS,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _page_html() -> str:
    package = "imitation.algorithms.preference_comparisons.human"
    return importlib.resources.files(package).joinpath("page.html").read_text("utf-8")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=_SECURITY_HEADERS)


class BodyTooLargeError(Exception):
    """A request body longer than the limit."""


async def read_body(request: Request, limit: int = _MAX_BODY) -> bytes:
    """A request's body, refused as soon as it exceeds ``limit`` bytes.

    The declared ``Content-Length`` is checked first; a chunked body is
    counted while it arrives, so an over-long one is never read whole.

    Raises:
        BodyTooLargeError: If the body is longer than ``limit``.
        ClientDisconnect: If the client went away before sending it all.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyTooLargeError
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError
    return bytes(body)


def is_json_request(request: Request) -> bool:
    """Whether the request declares a JSON body (``application/json``)."""
    media_type = request.headers.get("content-type", "").split(";")[0]
    return media_type.strip().lower() == "application/json"


def parse_id(text: str) -> int | None:
    """A non-negative id from a URL segment (None if not 1-18 digits)."""
    return int(text) if _ID_PATTERN.fullmatch(text) else None


async def read_json_object(request: Request) -> dict[str, Any] | Response:
    """The JSON object in a POST's body, or the error response to send.

    Refuses with 415 a body not declared ``application/json``, 413 one over
    the size limit, 400 one that is not a JSON object (deep nesting
    included), and answers a client that disconnected mid-body with 400 (it
    never reads it) instead of letting the error reach the server's log.
    """
    if not is_json_request(request):
        return _error(415, "send the body as JSON, with Content-Type: application/json")
    try:
        body = await read_body(request)
    except BodyTooLargeError:
        return _error(413, "request body too large")
    except ClientDisconnect:
        return _error(400, "the client disconnected before sending the whole body")
    try:
        return _parse_json(body)
    except (ValueError, RecursionError):
        return _error(400, "body must be a JSON object")


def make_app(session: PreferenceSession, token: str) -> ASGIApp:
    """The web app asking ``session``'s questions, guarded by ``token``."""
    page = _page_html()

    async def index(request: Request) -> Response:
        headers = {**_SECURITY_HEADERS, "Content-Security-Policy": _PAGE_CSP}
        return HTMLResponse(page, headers=headers)

    async def next_pair(request: Request) -> Response:
        return JSONResponse(session.status(), headers=_SECURITY_HEADERS)

    async def video(request: Request) -> Response:
        pair_id = parse_id(request.path_params["pair_id"])
        side = request.path_params["side"]
        if pair_id is None:
            return _error(404, "no such pair: a pair id is 1 to 18 digits")
        if side not in SIDES:
            return _error(404, f"side must be one of {list(SIDES)}")
        path = session.video_path(pair_id, side)
        if path is None:
            return _error(404, f"no video for pair {pair_id}")
        return FileResponse(path, headers=_SECURITY_HEADERS)

    async def answer(request: Request) -> Response:
        data = await read_json_object(request)
        if isinstance(data, Response):
            return data
        pair_id, choice = data.get("pair_id"), data.get("choice")
        if not isinstance(pair_id, int) or isinstance(pair_id, bool):
            return _error(422, "pair_id must be an integer")
        if not isinstance(choice, str) or choice not in CHOICES:
            return _error(422, f"choice must be one of {list(CHOICES)}")
        try:
            result = session.submit(pair_id, choice)
        except KeyError:
            return _error(
                404,
                f"pair {pair_id} is not on the page: it was never shown this run "
                "(not asked, clips not ready, or from an earlier run)",
            )
        except ValueError:
            return _error(409, f"pair {pair_id} is answered already")
        return JSONResponse(result, headers=_SECURITY_HEADERS)

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/api/next", next_pair, methods=["GET"]),
            Route("/video/{pair_id:str}/{side:str}", video, methods=["GET"]),
            Route("/api/answer", answer, methods=["POST"]),
        ],
    )
    return TokenMiddleware(app, token)


def _parse_json(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


class BackgroundServer:
    """Runs an ASGI app with uvicorn on a daemon thread until :meth:`stop`."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving; returns once the socket is listening.

        Args:
            app: The application.
            host: Interface to bind; the loopback one by default.
            port: Port; 0 picks a free one (see :attr:`port`).

        Raises:
            RuntimeError: If the server does not start within 30 seconds
                (e.g. the port is taken).
        """
        self.host = host
        self._socket = socket.socket(
            socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM
        )
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, Nagle's algorithm
        # and delayed ACKs add ~40 ms to every keep-alive response.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            raise RuntimeError(
                f"Cannot listen on {host}:{port} ({exc}); choose another port "
                "(0 picks a free one)."
            ) from exc
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            # Browsers keep idle connections open for minutes; closing them
            # sooner (uvicorn's default: 5 s) races with the next request.
            timeout_keep_alive=300,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="preference-web-server",
            daemon=True,
        )
        self._thread.start()
        _wait_for(lambda: self._server.started or not self._thread.is_alive(), 30.0)
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"The web server on {host}:{self.port} did not start.")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait (up to ``timeout`` seconds) for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self._socket.close()


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
