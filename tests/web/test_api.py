"""The workbench API over real HTTP on loopback: log-in, search across spellings, entities with markings, rights per
role, the sharing policy for a partner's account, protected people, CSRF, the error shape and the audit of reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avellino.share import audit
from avellino.store import open_store
from avellino.web.api import PARTNER_RIGHTS, RIGHTS
from tests.web.bench import (
    CALL,
    EXCLUDED,
    FR_SUSPECT,
    ONWARD,
    PASSWORD,
    ROLES,
    SUSPECT,
    VICTIM,
    Bench,
    make_workspace,
    serving,
)


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    ws = make_workspace(tmp_path_factory.mktemp("web"))
    with serving(ws) as b:
        yield b


def entries(ws: Path) -> list[dict[str, object]]:
    with open_store(ws, read_only=True) as store:
        return [e.fields for e in audit.entries(store)]


def test_login_refuses_a_wrong_password_with_the_one_error_shape(bench: Bench) -> None:
    r = httpx.post(f"{bench.url}/api/login", json={"user": "analyst", "password": "nope" * 4, "purpose": "test"})
    assert r.status_code == 401
    assert r.json() == {"error": {"status": 401, "code": "unauthenticated", "message": "wrong user name or password"}}
    assert httpx.get(f"{bench.url}/api/search?q=x").json()["error"]["code"] == "unauthenticated"
    assert httpx.get(f"{bench.url}/api/nothing-here").json()["error"]["status"] == 404


def test_search_finds_a_transliterated_name_and_the_read_is_audited(bench: Bench) -> None:
    c = bench.client("analyst", purpose="OP-CHANNEL search test")
    for spelling in ("Muhammad Alhasan", "محمد الحسن", "mohamed hasan", "+44 7700 900123"):
        hits = c.get("/api/search", params={"q": spelling}).json()["hits"]
        assert hits and hits[0]["id"] == SUSPECT, (spelling, hits)
    found = [e for e in entries(bench.workspace) if e["action"] == "api search 'Muhammad Alhasan'"]
    assert found and found[-1]["user"] == "analyst" and found[-1]["purpose"] == "OP-CHANNEL search test"
    assert SUSPECT in found[-1]["touched"]["ids"]  # type: ignore[index]


def test_entity_shows_every_fact_with_markings_and_conditions(bench: Bench) -> None:
    c = bench.client("analyst")
    e = c.get(f"/api/entities/{SUSPECT}").json()
    facts = e["originators"]["UK-NCA"]
    nationality = next(f for f in facts if f["prop"] == "nationality")
    assert nationality["handling_code"] == "H1" and nationality["caveat"].startswith("H1:")
    assert all(f["tlp"] and f["evaluation"] and f["subject_category"] for f in facts)
    assert {link["id"] for link in e["links"]} == {CALL}
    victim = c.get(f"/api/entities/{VICTIM}").json()
    assert victim["protected"] and "never a target" in victim["safeguarding"]
    assert c.get("/api/entities/uk-nca--nobody").json()["error"]["code"] == "not_found"


def test_writes_need_the_csrf_token(bench: Bench) -> None:
    c = bench.client("analyst")
    token = c.headers.pop("X-CSRF-Token")
    body = {"left": SUSPECT, "right": FR_SUSPECT, "verdict": "different", "reason": "test"}
    r = c.post("/api/judgements", json=body)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
    c.headers["X-CSRF-Token"] = token
    r = c.post("/api/judgements", json=body)
    assert r.status_code == 200 and r.json()["verdict"] == "negative"


#: one request per endpoint and the right it needs
ENDPOINTS = [
    ("GET", "/api/search?q=hassan", "read"),
    ("GET", f"/api/entities/{SUSPECT}", "read"),
    ("GET", f"/api/clusters/{SUSPECT}", "read"),
    ("GET", f"/api/network/{SUSPECT}", "read"),
    ("GET", "/api/routes", "read"),
    ("GET", f"/api/explain?a={SUSPECT}&b={FR_SUSPECT}", "judge"),
    ("GET", "/api/review", "judge"),
    ("POST", "/api/judgements", "judge"),
    ("GET", "/api/targets", "targets"),
    ("POST", f"/api/targets/{SUSPECT}/confirm", "confirm"),
    ("GET", "/api/flows", "flows"),
    ("GET", "/api/sharing", "sharing"),
    ("GET", "/api/audit", "audit"),
    ("GET", "/api/retention", "retention"),
    ("GET", "/api/users", "users"),
    ("GET", "/api/jits", "jits"),
    ("GET", "/api/jits/JIT-X", "jits"),
]
BODIES = {
    "/api/judgements": {"left": SUSPECT, "right": FR_SUSPECT, "verdict": "unsure", "reason": "rights test"},
    "confirm": {"reason": "rights test"},
}


@pytest.mark.parametrize("user", [*ROLES, "fr.liaison"])
def test_every_endpoint_refuses_what_the_role_may_not_see(bench: Bench, user: str) -> None:
    c = bench.client(user)
    me = c.get("/api/me").json()
    for method, path, right in ENDPOINTS:
        body = BODIES["confirm"] if path.endswith("/confirm") else BODIES.get(path)
        r = c.request(method, path, json=body)
        may = me["role"] in {r_.value for r_ in RIGHTS[right]} and (not me["agency"] or right in PARTNER_RIGHTS)
        if may:
            assert r.status_code != 403, (user, path, r.text)
            assert r.status_code < 500 or r.json()["error"]["code"] == "unavailable", (user, path, r.text)
        else:
            assert r.status_code == 403, (user, path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "forbidden"


def test_a_partner_account_sees_only_what_the_policy_shares_with_its_agency(bench: Bench) -> None:
    staff = bench.client("analyst")
    partner = bench.client("fr.liaison")
    assert all(staff.get(f"/api/entities/{e}").status_code == 200 for e in (ONWARD, EXCLUDED, VICTIM))
    # AMBER facts of another originator, an H3 not:FR fact and the victim are withheld from FR-OCRIEST: not
    # found, not in search, not in networks
    for withheld in (ONWARD, EXCLUDED, VICTIM):
        assert partner.get(f"/api/entities/{withheld}").status_code == 404
    assert not partner.get("/api/search", params={"q": "Dariusz Nowak"}).json()["hits"]
    assert not partner.get("/api/search", params={"q": "Amina Yusuf"}).json()["hits"]
    assert not partner.get("/api/search", params={"q": "Omar Haddad"}).json()["hits"]
    shown = partner.get(f"/api/network/{SUSPECT}", params={"depth": 2}).json()
    assert VICTIM not in {n["id"] for n in shown["nodes"]}
    assert partner.get(f"/api/entities/{SUSPECT}").status_code == 200


def test_only_supervisors_confirm_targets_and_never_a_protected_person(bench: Bench) -> None:
    sup = bench.client("supervisor")
    r = sup.post(f"/api/targets/{VICTIM}/confirm", json={"reason": "test"})
    assert r.status_code == 409 and "protected" in r.json()["error"]["message"]
    r = sup.post(f"/api/targets/{SUSPECT}/confirm", json={"reason": "phone contacts"})
    assert r.status_code == 200 and r.json()["confirmed_by"] == "supervisor"
    report = sup.get("/api/targets").json()
    assert VICTIM not in {t["id"] for t in report["targets"]}
    assert SUSPECT in {c["canonical_id"] for c in report["confirmed"]}


def test_the_dpo_reads_an_intact_audit_log_of_every_read(bench: Bench) -> None:
    bench.client("analyst").get(f"/api/entities/{SUSPECT}")
    log = bench.client("dpo").get("/api/audit", params={"limit": 1000}).json()
    assert log["verify"]["intact"]
    actions = [e["action"] for e in log["entries"]]
    assert "api read entity" in actions and "api login" in actions
    assert bench.client("dpo").get("/api/retention").json()["statements"] == 0


def test_pages_need_a_session_and_load_no_external_asset(bench: Bench) -> None:
    anonymous = httpx.get(f"{bench.url}/", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    page = bench.client("analyst").get(f"/entity/{SUSPECT}")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    assert PASSWORD not in page.text
    spec = httpx.get(f"{bench.url}/openapi.json").json()
    assert "/api/search" in spec["paths"] and not any(p.startswith("/v1") for p in spec["paths"])


def test_a_fact_written_while_the_server_runs_is_found_once_the_view_is_rebuilt(bench: Bench) -> None:
    import time

    from avellino.web.service import FRESH_SECONDS
    from tests.share.nodes import person, write

    c = bench.client("analyst")
    assert not c.get("/api/search", params={"q": "Zoltan Kovacs"}).json()["hits"]
    write(bench.workspace, person("uk-nca--p77", "Zoltan Kovacs", "UK-NCA"), name="late")
    time.sleep(FRESH_SECONDS + 0.5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the first request after the change starts the rebuild
        hits = c.get("/api/search", params={"q": "Zoltan Kovacs"}).json()["hits"]
        if hits:
            break
        time.sleep(0.5)
    assert hits and hits[0]["id"] == "uk-nca--p77"
