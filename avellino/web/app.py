"""The workbench application: the API (``api.py``), the pages (server-rendered shells that the JavaScript in
``static/app.js`` fills from the API, so every fact shown passes the API's rights, policy and audit), the vendored
browser libraries, and, when this node has keys, the node server of ``share/server.py`` in the same process.

Nothing is fetched from the internet at run time: Cytoscape.js, Leaflet and Chart.js are served from
``static/vendor`` and the map's only basemap is ``data/land.geojson``. Every response carries a strict Content
Security Policy (scripts from this server only).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avellino.errors import AvellinoError, ConfigError
from avellino.web import answers
from avellino.web.api import build_router
from avellino.web.places import land_geojson, places
from avellino.web.service import QueuedAuditor, Workbench
from avellino.web.sessions import COOKIE, Sessions
from avellino.web.users import Users

HERE = Path(__file__).parent
CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "invalid", 429: "too_many_requests", 500: "server_error",
         503: "unavailable"}  # fmt: skip
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: page path -> (template, title, what the page needs: a right of ``api.RIGHTS``)
PAGES: dict[str, tuple[str, str, str]] = {
    "/": ("search.html", "Search", "read"),
    "/entity/{entity_id}": ("entity.html", "Entity", "read"),
    "/network/{entity_id}": ("network.html", "Network", "read"),
    "/routes": ("routes.html", "Routes", "read"),
    "/flows": ("flows.html", "Flows", "flows"),
    "/review": ("review.html", "Review queue", "judge"),
    "/targets": ("targets.html", "Targets", "targets"),
    "/sharing": ("sharing.html", "Sharing", "sharing"),
    "/audit": ("audit.html", "Audit log", "audit"),
    "/retention": ("retention.html", "Retention", "retention"),
    "/jits": ("jits.html", "Joint investigation teams", "jits"),
    "/jit/{entity_id}": ("jit.html", "Joint investigation team", "jits"),
    "/users": ("users.html", "Accounts", "users"),
}


def error_json(status: int, message: str) -> JSONResponse:
    body = {"error": {"status": status, "code": CODES.get(status, "error"), "message": message}}
    return JSONResponse(body, status_code=status)


def create_workbench(workspace: Path | None, users_dir: Path, node: Any = None, audit: QueuedAuditor | None = None,
                     warm: bool = False) -> FastAPI:  # fmt: skip
    """The workbench for ``workspace``; accounts (and sessions) in ``users_dir``; ``node``: this node (or None),
    whose node server is then served too; ``audit``: where reads are recorded (default: this process writes the
    log); ``warm``: build the staff's view when the server starts, so the first analyst does not wait for it."""
    bench = Workbench(workspace, node, users_dir, audit)
    sessions = Sessions(users_dir)
    users = Users(users_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            threading.Thread(target=bench.view, args=("", "startup"), daemon=True).start()
        yield
        bench.close()  # the audit log's last entries written and its file closed
        sessions.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Avellino workbench",
        description="The analyst's workbench: every answer passes the reader's rights and the sharing policy, and "
        "every read is written to the tamper-evident audit log.",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.bench = bench
    app.state.sessions = sessions
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(("/api/", "/static/", "/data/")):
            return error_json(exc.status_code, str(exc.detail))
        if exc.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        # a page: a page back (the JSON error shape is the API's)
        page = templates.get_template("error.html").render(
            title=CODES.get(exc.status_code, "error").replace("_", " ").capitalize(), node=bench.node_name,
            page="error", message=str(exc.detail), user=None)  # fmt: skip
        return HTMLResponse(page, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_json(422, problems or "invalid request")

    @app.exception_handler(answers.NotFound)
    async def not_found(request: Request, exc: answers.NotFound) -> Response:
        return error_json(404, str(exc))

    @app.exception_handler(answers.Refused)
    async def refused(request: Request, exc: answers.Refused) -> Response:
        return error_json(409, str(exc))

    @app.exception_handler(ConfigError)
    async def config(request: Request, exc: ConfigError) -> Response:
        return error_json(422, str(exc))

    @app.exception_handler(AvellinoError)
    async def avellino(request: Request, exc: AvellinoError) -> Response:
        return error_json(503, str(exc))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        return error_json(500, f"internal error ({type(exc).__name__}); see the server log")

    app.include_router(build_router(bench, sessions, users))

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"], include_in_schema=False)
    async def unknown(rest: str) -> Response:
        return error_json(404, f"no such API endpoint: /api/{rest}")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/data/land.geojson", include_in_schema=False)
    async def land() -> FileResponse:
        return FileResponse(land_geojson(), media_type="application/geo+json")

    @app.get("/data/places.json", include_in_schema=False)
    async def place_list() -> dict[str, Any]:
        return places()

    def render(name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**context))

    @app.get("/login", include_in_schema=False)
    async def login_page() -> HTMLResponse:
        return render("login.html", title="Log in", node=bench.node_name, page="login")

    def page(template: str, title: str, right: str) -> Any:
        async def show(request: Request, entity_id: str = "") -> Response:
            session = sessions.get(request.cookies.get(COOKIE))
            if session is None:
                return RedirectResponse("/login", status_code=303)
            from avellino.web.api import PARTNER_RIGHTS, RIGHTS

            allowed = session.role in RIGHTS[right] and (not session.agency or right in PARTNER_RIGHTS)
            if not allowed:
                home = next((p for p, (_, _, r) in PAGES.items() if r in _rights(session) and "{" not in p), None)
                where = f"go to {home}" if home else "accounts are managed with `avellino user add` on the node"
                raise HTTPException(403, f"your role ({session.role.value}) cannot open {title}: {where}")
            return render(template, title=title, node=bench.node_name, page=template.removesuffix(".html"),
                          entity_id=entity_id, user=session.user, role=session.role.value, agency=session.agency,
                          purpose=session.purpose, rights=_rights(session))  # fmt: skip

        return show

    for path, (template, title, right) in PAGES.items():
        app.add_api_route(path, page(template, title, right), methods=["GET"], include_in_schema=False)

    if node is not None:
        from avellino.share.server import create_app

        app.mount("/", create_app(node, workspace))  # /v1/...: partners' signed requests (no session, no cookie)
    return app


class SecurityHeaders:
    """The security headers on every response, and ``Cache-Control: no-store`` on the API's. A plain ASGI
    middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) runs each request through an extra task and
    stream, which cost more than the search itself."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]  # fmt: skip

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.HEADERS + ([(b"cache-control", b"no-store")] if scope["path"].startswith("/api/") else [])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in extra}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _rights(session: Any) -> list[str]:
    from avellino.web.api import PARTNER_RIGHTS, RIGHTS

    return sorted(
        r for r, roles in RIGHTS.items() if session.role in roles and (not session.agency or r in PARTNER_RIGHTS)
    )
