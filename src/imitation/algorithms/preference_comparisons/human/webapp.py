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


def _package_text(name: str) -> str:
    package = "imitation.algorithms.preference_comparisons.human"
    return importlib.resources.files(package).joinpath(name).read_text("utf-8")


def _page_app(
    page: str,
    status: Callable[[], dict[str, Any]],
    routes: list[Route],
    token: str,
) -> ASGIApp:
    """An app serving a page and its status besides ``routes``, guarded by ``token``.

    The page's file marks with ``/* common.css */`` and ``// common.js``
    where the style and script all pages share are inlined.

    Args:
        page: The page's file in this package, served at ``GET /``.
        status: What ``GET /api/next`` answers (JSON-able).
        routes: The page's other routes.
        token: The session token every request must carry.

    Returns:
        The app.
    """
    html = _package_text(page)
    for shared in ("common.css", "common.js"):
        marker = f"/* {shared} */" if shared.endswith(".css") else f"// {shared}"
        assert html.count(marker) == 1, f"{page} must mark {shared} once"
        html = html.replace(marker, _package_text(shared))

    async def index(request: Request) -> Response:
        headers = {**_SECURITY_HEADERS, "Content-Security-Policy": _PAGE_CSP}
        return HTMLResponse(html, headers=headers)

    async def next_status(request: Request) -> Response:
        return JSONResponse(status(), headers=_SECURITY_HEADERS)

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/api/next", next_status, methods=["GET"]),
            *routes,
        ],
    )
    return TokenMiddleware(app, token)


def make_app(session: PreferenceSession, token: str) -> ASGIApp:
    """The web app asking ``session``'s questions, guarded by ``token``."""

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

    routes = [
        Route("/video/{pair_id:str}/{side:str}", video, methods=["GET"]),
        Route("/api/answer", answer, methods=["POST"]),
    ]
    return _page_app("page.html", session.status, routes, token)


class LabelSession(Protocol):
    """What the labelling web app asks of the labeller behind it."""

    def status(self) -> dict[str, Any]:
        """Progress, the actions, and the next state ready to show (JSON-able)."""

    def picture(self, state_id: int) -> bytes | None:
        """The JPEG of a state queued and unlabelled, if rendered."""

    def submit(self, state_id: int, action: int) -> dict[str, Any]:
        """Record a label (durably); returns the new progress.

        Raises ``KeyError`` for a state never shown this run, ``ValueError``
        for one labelled already, ``IndexError`` for an action out of range,
        ``RuntimeError`` when the run wants no more labels.
        """


def make_label_app(session: LabelSession, token: str) -> ASGIApp:
    """The labelling page's app (DAgger with a person), guarded by ``token``.

    Routes (each needs the token): ``GET /`` the page, ``GET /api/next``
    progress and the next state, ``GET /state/{id}.jpg`` a state's picture,
    ``POST /api/label`` ``{"state_id": int, "action": int}``.
    """

    async def picture(request: Request) -> Response:
        state_id = parse_id(request.path_params["state_id"])
        data = None if state_id is None else session.picture(state_id)
        if data is None:
            return _error(404, "no picture for this state (never queued, or labelled)")
        return Response(data, media_type="image/jpeg", headers=_SECURITY_HEADERS)

    async def label(request: Request) -> Response:
        data = await read_json_object(request)
        if isinstance(data, Response):
            return data
        state_id, action = data.get("state_id"), data.get("action")
        if not isinstance(state_id, int) or isinstance(state_id, bool):
            return _error(422, "state_id must be an integer")
        if not isinstance(action, int) or isinstance(action, bool):
            return _error(422, "action must be an integer (the action's index)")
        try:
            result = session.submit(state_id, action)
        except KeyError:
            return _error(
                404,
                f"state {state_id} is not on the page: it was never shown this run",
            )
        except ValueError:
            return _error(409, f"state {state_id} is labelled already")
        except RuntimeError:
            return _error(409, "the run is not asking for labels any more")
        except IndexError:
            count = len(session.status()["actions"])
            return _error(
                422, f"action {action} is outside the action space: 0 to {count - 1}"
            )
        return JSONResponse(result, headers=_SECURITY_HEADERS)

    routes = [
        Route("/state/{state_id:str}.jpg", picture, methods=["GET"]),
        Route("/api/label", label, methods=["POST"]),
    ]
    return _page_app("label.html", session.status, routes, token)


class PlaySession(Protocol):
    """What the playing web app asks of the player behind it."""

    def status(self) -> dict[str, Any]:
        """The episode, step, controls and current frame's address (JSON-able)."""

    def frame(self, number: int, t: int) -> bytes | None:
        """The JPEG of step ``t`` of episode ``number``, if it is the current one."""

    def act(self, number: int, t: int, control: int) -> dict[str, Any]:
        """Step with a control (durably recorded); returns the new status.

        Raises ``ValueError`` for a step that is not the current one (stale
        or replayed), ``IndexError`` for an unknown control, ``RuntimeError``
        once the player is closed.
        """


def _int_fields(
    data: dict[str, Any], names: tuple[str, ...]
) -> tuple[int, ...] | Response:
    values = []
    for name in names:
        value = data.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            return _error(422, f"{name} must be an integer")
        values.append(value)
    return tuple(values)


def make_play_app(session: PlaySession, token: str) -> ASGIApp:
    """The playing page's app (demonstrations from a person), guarded by ``token``.

    Routes (each needs the token): ``GET /`` the page, ``GET /api/next`` the
    current step, ``GET /frame/{episode}/{t}.jpg`` its frame, ``POST /api/act``
    ``{"episode": int, "t": int, "control": int}``.
    """

    async def frame(request: Request) -> Response:
        number = parse_id(request.path_params["episode"])
        t = parse_id(request.path_params["t"])
        data = None if number is None or t is None else session.frame(number, t)
        if data is None:
            return _error(404, "no such frame: only the current step's is served")
        return Response(data, media_type="image/jpeg", headers=_SECURITY_HEADERS)

    async def act(request: Request) -> Response:
        data = await read_json_object(request)
        if isinstance(data, Response):
            return data
        fields = _int_fields(data, ("episode", "t", "control"))
        if isinstance(fields, Response):
            return fields
        number, t, control = fields
        try:
            result = session.act(number, t, control)
        except ValueError:
            return _error(409, f"step {t} of episode {number} is not the current step")
        except RuntimeError:
            return _error(503, "the run has stopped taking steps")
        except IndexError:
            count = len(session.status()["controls"])
            return _error(422, f"control {control} is not one of 0 to {count - 1}")
        return JSONResponse(result, headers=_SECURITY_HEADERS)

    routes = [
        Route("/frame/{episode:str}/{t:str}.jpg", frame, methods=["GET"]),
        Route("/api/act", act, methods=["POST"]),
    ]
    return _page_app("play.html", session.status, routes, token)


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


class PageServer(BackgroundServer):
    """Serves a page's app, made for a fresh session token, on a daemon thread."""

    def __init__(
        self,
        make_app: Callable[[Any, str], ASGIApp],
        session: Any,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Start serving ``make_app(session, token)``; see :class:`BackgroundServer`.

        Raises:
            RuntimeError: If the server cannot listen on ``host:port`` or does
                not start.
        """
        self.token = secrets.token_urlsafe(32)
        """The session token every request must carry: a password."""
        super().__init__(make_app(session, self.token), host, port)
        shown_host = f"[{host}]" if ":" in host else host
        self.address = f"http://{shown_host}:{self.port}/"
        """The page's address without the session token: safe to log."""
        self.url = f"{self.address}?token={self.token}"
        """The page's address, session token included: open it in a browser."""


def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
