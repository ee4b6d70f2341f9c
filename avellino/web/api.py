"""The workbench's HTTP API under ``/api/``: every answer goes through the reader's rights (their role, and for a
partner's liaison officer the sharing policy, ``service.Workbench.view``) and is written to the audit log, with the
purpose given at login, before it is released.

Rights per role (``RIGHTS``): analysts and supervisors read case data and judge pairs; only supervisors confirm
targets; the data-protection officer reads the audit log and the retention queue and no case data; administrators
manage accounts only. A partner's liaison officer reads case data as shared with their agency and nothing else.
Errors have one shape: ``{"error": {"status": 404, "code": "not_found", "message": "..."}}``.
"""

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from avellino.web import answers
from avellino.web.readmodel import ReadModel, SearchHit
from avellino.web.service import Workbench
from avellino.web.sessions import COOKIE, CSRF_HEADER, Session, Sessions
from avellino.web.users import Role, Users

READ_CASE = frozenset({Role.ANALYST, Role.SUPERVISOR})
#: right -> roles that hold it (a partner's liaison officer holds only "read", on their agency's view)
RIGHTS: dict[str, frozenset[Role]] = {
    "read": READ_CASE,
    "judge": READ_CASE,
    "targets": READ_CASE,
    "confirm": frozenset({Role.SUPERVISOR}),
    "flows": READ_CASE,
    "sharing": frozenset({Role.ANALYST, Role.SUPERVISOR, Role.DPO}),
    "audit": frozenset({Role.DPO}),
    "retention": frozenset({Role.DPO}),
    "users": frozenset({Role.ADMIN}),
    "jits": READ_CASE,
}
PARTNER_RIGHTS = frozenset({"read"})


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class Login(BaseModel):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    purpose: str = Field(min_length=3, max_length=300, description="Why you are reading (kept with every read)")


class LoggedIn(BaseModel):
    user: str
    role: str
    agency: str = Field(description="Empty for this agency's staff; else the partner node of a liaison officer")
    csrf: str = Field(description="Send it as the X-CSRF-Token header with every write")


class Me(LoggedIn):
    purpose: str
    rights: list[str]
    node: str


class LoggedOut(BaseModel):
    result: str


class SearchAnswer(BaseModel):
    query: str
    view: str = Field(description="Whose view was searched: this workspace, or a partner's share of it")
    hits: list[SearchHit]


class Account(BaseModel):
    name: str
    role: str
    agency: str
    disabled: bool


class Accounts(BaseModel):
    users: list[Account]


class Judgement(BaseModel):
    left: str = Field(min_length=1, max_length=300)
    right: str = Field(min_length=1, max_length=300)
    verdict: str = Field(pattern="^(same|different|unsure)$")
    reason: str = Field(default="", max_length=1000)


class Confirm(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (400, 401, 403, 404, 409, 422, 429, 500, 503)
}


def build_router(bench: Workbench, sessions: Sessions, users: Users) -> APIRouter:
    router = APIRouter(prefix="/api", responses=ERRORS)

    # The checks are coroutines taking the request, one level deep: FastAPI runs a plain ``def`` dependency in its
    # thread pool and resolves each nested one separately, which together cost more than a search.
    async def current(request: Request) -> Session:
        session = sessions.get(request.cookies.get(COOKIE))
        if session is None:
            raise HTTPException(401, "log in first (POST /api/login)")
        if request.method not in ("GET", "HEAD", "OPTIONS") and not session.csrf_ok(request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header (it is in GET /api/me)")
        return session

    def needs(right: str) -> Callable[[Request], Awaitable[Session]]:
        async def check(request: Request) -> Session:
            session = await current(request)
            if session.agency and right not in PARTNER_RIGHTS:
                raise HTTPException(403, f"a partner account ({session.agency}) cannot use this ({right})")
            if session.role not in RIGHTS[right]:
                raise HTTPException(403, f"your role ({session.role}) may not {right}")
            return session

        return check

    Reader = Annotated[Session, Depends(needs("read"))]

    async def view(session: Session) -> ReadModel:
        model = bench.fresh_view(session.agency, session.purpose)  # the common case: no thread hop
        return model if model is not None else await run_in_threadpool(bench.view, session.agency, session.purpose)

    async def audited(session: Session, action: str, touched: Any) -> None:
        await bench.audit.record_async(session.user, session.purpose, f"api {action}", touched)

    # -- session ----------------------------------------------------------------------------------------------
    @router.post("/login")
    async def login(body: Login, request: Request, response: Response) -> LoggedIn:
        """Start a session: the purpose given here is written with every read of the session."""
        where = f"ip:{request.client.host if request.client else '?'}"
        if sessions.throttled(f"user:{body.user}", where):
            raise HTTPException(429, "too many failed logins: wait five minutes")
        user = await run_in_threadpool(users.authenticate, body.user, body.password)
        if user is None:
            sessions.failed(f"user:{body.user}", where)
            raise HTTPException(401, "wrong user name or password")
        sessions.succeeded(f"user:{body.user}")
        session = sessions.start(user, body.purpose.strip())
        await audited(session, "login", [user.name])
        secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict", secure=secure, path="/")
        return LoggedIn(user=user.name, role=user.role.value, agency=user.agency, csrf=session.csrf)

    @router.post("/logout")
    async def logout(request: Request, response: Response, session: Annotated[Session, Depends(current)]) -> LoggedOut:
        """End the session (its cookie and CSRF token stop working)."""
        sessions.end(session.token)
        response.delete_cookie(COOKIE, path="/")
        return LoggedOut(result="logged out")

    @router.get("/me")
    async def me(session: Annotated[Session, Depends(current)]) -> Me:
        """Who is logged in, the session's purpose, the CSRF token for writes, and the rights of the role."""
        rights = sorted(
            r for r, roles in RIGHTS.items() if session.role in roles and (not session.agency or r in PARTNER_RIGHTS)
        )
        return Me(user=session.user, role=session.role.value, agency=session.agency, purpose=session.purpose,
                  csrf=session.csrf, rights=rights, node=bench.node_name)  # fmt: skip

    # -- case data --------------------------------------------------------------------------------------------
    @router.get("/search")
    async def search(session: Reader, q: Annotated[str, Query(min_length=1, max_length=200)],
                     limit: Annotated[int, Query(ge=1, le=50)] = 20) -> SearchAnswer:  # fmt: skip
        """People and things whose names match however they are spelled, or whose identifiers match exactly."""
        model = await view(session)
        hits = model.search(q, limit)  # a few milliseconds of Python: a thread would only add a hop
        await audited(session, f"search {q!r}", [h.id for h in hits])
        return SearchAnswer(query=q, view=model.label, hits=hits)

    @router.get("/entities/{entity_id}")
    async def entity(session: Reader, entity_id: str) -> dict[str, Any]:
        """Every fact of an entity with its markings, provenance and the originator's conditions."""
        model = await view(session)
        answer = answers.entity(model, entity_id)
        await audited(session, "read entity", [answer["id"]])
        return answer

    @router.get("/clusters/{entity_id}")
    async def cluster(session: Reader, entity_id: str) -> dict[str, Any]:
        """The records merged into an entity."""
        model = await view(session)
        answer = answers.cluster(model, entity_id)
        await audited(session, "read cluster", answer["members"])
        return answer

    @router.get("/explain")
    async def explain(session: Annotated[Session, Depends(needs("judge"))],
                      a: Annotated[str, Query(min_length=1, max_length=300)],
                      b: Annotated[str, Query(min_length=1, max_length=300)]) -> dict[str, Any]:  # fmt: skip
        """Why two records were (or were not) joined: each comparison's weight, judgements, shared identifiers."""
        model = await view(session)

        def run() -> dict[str, Any]:
            with bench.open_store() as store:
                return answers.explain(store, model, a, b)

        answer = await run_in_threadpool(run)
        await audited(session, "explain pair", [a, b])
        return answer

    @router.get("/review")
    async def review(session: Annotated[Session, Depends(needs("judge"))],
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:  # fmt: skip
        """Pairs waiting for an analyst: the most uncertain first."""
        model = await view(session)

        def run() -> list[dict[str, Any]]:
            with bench.open_store() as store:
                return answers.review_queue(store, model, limit)

        pairs = await run_in_threadpool(run)
        await audited(session, "read review queue", [p["left"] for p in pairs] + [p["right"] for p in pairs])
        return {"pairs": pairs}

    @router.post("/judgements")
    async def judge(body: Judgement, session: Annotated[Session, Depends(needs("judge"))]) -> dict[str, Any]:
        """Record a judgement (same, different, unsure); the next ``resolve run`` honours it."""
        model = await view(session)

        def run() -> dict[str, Any]:
            with bench.write_lock, bench.open_store(read_only=False) as store:
                return answers.judge(store, model, body.left, body.right, body.verdict, session.user, body.reason)

        await audited(session, f"judge pair {body.verdict}", [body.left, body.right])
        row = await run_in_threadpool(run)
        bench.changed()
        return row

    @router.get("/network/{entity_id}")
    async def network(session: Reader, entity_id: str, depth: Annotated[int, Query(ge=1, le=3)] = 1,
                      community: bool = False) -> dict[str, Any]:  # fmt: skip
        """A person's neighbourhood (or community): nodes and ties; protected people flagged, never as targets."""
        model = await view(session)
        answer = await run_in_threadpool(answers.neighbourhood, model, entity_id, depth, community)
        await audited(session, "read network" + (" community" if community else ""), [n["id"] for n in answer["nodes"]])
        return answer

    @router.get("/targets")
    async def targets(session: Annotated[Session, Depends(needs("targets"))],
                      k: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:  # fmt: skip
        """Key players whose removal fragments the network most, with roles and evidence, and confirmations."""
        model = await view(session)
        report = await run_in_threadpool(answers.targets, model, k)

        def confirmed() -> list[dict[str, Any]]:
            with bench.open_store() as store:
                return answers.confirmations(store)

        report = {**report, "confirmed": await run_in_threadpool(confirmed)}
        await audited(session, "read targets", [t["id"] for t in report["targets"]])
        return report

    @router.post("/targets/{entity_id}/confirm")
    async def confirm(
        entity_id: str, body: Confirm, session: Annotated[Session, Depends(needs("confirm"))]
    ) -> dict[str, Any]:
        """A supervisor confirms a target (never a protected person)."""
        model = await view(session)

        def run() -> dict[str, Any]:
            with bench.write_lock, bench.open_store(read_only=False) as store:
                return answers.confirm_target(store, model, entity_id, session.user, body.reason)

        await audited(session, "confirm target", [entity_id])
        row = await run_in_threadpool(run)
        bench.changed()
        return row

    @router.get("/routes")
    async def routes(session: Reader) -> dict[str, Any]:
        """Legs and crossings between places, with coordinates for the map and the main operators."""
        model = await view(session)
        answer = await run_in_threadpool(answers.routes, model)
        await audited(session, "read routes", len(answer["routes"]))
        return answer

    @router.get("/flows")
    async def flows(session: Annotated[Session, Depends(needs("flows"))]) -> dict[str, Any]:
        """The forecast of the workspace's crossings, with intervals and alerts."""

        def run() -> dict[str, Any]:
            with bench.open_store() as store:
                return bench.cached("flows", lambda: answers.flows(store))

        answer = await run_in_threadpool(run)
        await audited(session, "read flows", len(answer["series"]))
        return answer

    # -- joint investigation teams ----------------------------------------------------------------------------
    @router.get("/jits")
    async def jit_list(session: Annotated[Session, Depends(needs("jits"))]) -> dict[str, Any]:
        """The joint investigation teams this node holds: members, term, purposes, state today."""
        listed = await run_in_threadpool(answers.jits, bench.node)
        await audited(session, "read jits", [j["name"] for j in listed])
        return {"jits": listed}

    @router.get("/jits/{name}")
    async def jit_case(name: str, session: Annotated[Session, Depends(needs("jits"))]) -> dict[str, Any]:
        """A JIT's case: members, contributions by originator, resolved persons across members, the case network
        (only what the agreement lets this node see: nothing once it has ended)."""

        def run() -> dict[str, Any]:
            with bench.open_store() as store:
                return answers.jit_case(store, bench.node, name, session.purpose)

        answer = await run_in_threadpool(run)
        await audited(session, f"read jit {name}", [n["id"] for n in answer.get("network", {}).get("nodes", [])])
        return answer

    # -- sharing, audit, retention ----------------------------------------------------------------------------
    @router.get("/sharing")
    async def sharing(session: Annotated[Session, Depends(needs("sharing"))]) -> dict[str, Any]:
        """Partners, bundles sent (with what was withheld, by reason) and received."""
        answer = await run_in_threadpool(bench.sharing)
        await audited(session, "read sharing", [p["name"] for p in answer["partners"]])
        return answer

    @router.get("/audit")
    async def audit(session: Annotated[Session, Depends(needs("audit"))],
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:  # fmt: skip
        """The newest audit entries and whether the chain verifies."""
        answer = await run_in_threadpool(bench.audit_log, limit)
        await audited(session, "read audit log", len(answer["entries"]))
        return answer

    @router.get("/retention")
    async def retention(session: Annotated[Session, Depends(needs("retention"))],
                        before: dt.date | None = None) -> dict[str, Any]:  # fmt: skip
        """Facts past their retention review date (default: today), for the data-protection officer."""
        answer = await run_in_threadpool(bench.retention_due, before or dt.date.today())
        await audited(session, "read retention queue", answer["statements"])
        return answer

    @router.get("/users")
    async def user_list(session: Annotated[Session, Depends(needs("users"))]) -> Accounts:
        """Accounts (names, roles, agencies; never password hashes)."""
        listed = [Account(name=u.name, role=u.role.value, agency=u.agency, disabled=u.disabled)
                  for u in (await run_in_threadpool(users.all)).values()]  # fmt: skip
        await audited(session, "read users", [u.name for u in listed])
        return Accounts(users=listed)

    return router
