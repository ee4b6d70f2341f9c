"""The workbench in a real browser: Debian's Chromium, driven headless by Playwright, against the real application on
loopback. An analyst logs in, finds the suspect by an Arabic-script spelling of his name, opens him, judges the pair
waiting in the review queue, opens his network and the route map; the data-protection officer then reads the audit
log those reads wrote. Any JavaScript error, console error, failed request or request that leaves 127.0.0.1 fails
the test. A full-page screenshot of each page is kept in ``$AVELLINO_TEST_ARTEFACTS`` (default
``test-artefacts/web/``) for the reviewer.

Playwright's own browser downloads are never used: the browser is the system's ``chromium`` (``apt-get install
chromium``); the test is skipped, saying so, where it is not installed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pytest

from avellino.share import audit
from avellino.store import open_store
from tests.web.bench import CALL, FR_SUSPECT, PASSWORD, SUSPECT, VICTIM, Bench, make_workspace, serving

ROOT = Path(__file__).resolve().parents[2]
PURPOSE = "OP-CHANNEL browser test"
#: the suspect's name as an Arabic-script record would spell it (he is held as "Mohammed Al-Hassan")
ARABIC = "محمد الحسن"
REASON = "different fathers' names in the two records"


def chromium() -> str | None:
    """Debian's Chromium (``/usr/bin/chromium``), else a ``chromium`` on PATH."""
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def artefacts() -> Path:
    folder = Path(os.environ.get("AVELLINO_TEST_ARTEFACTS") or ROOT / "test-artefacts" / "web")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Watch:
    """Everything the browser asked for and everything that went wrong, across all pages of a context."""

    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        def request(r: Any) -> None:
            self.requests.append(r.url)

        def response(r: Any) -> None:
            if r.status >= 400:
                self.problems.append(f"HTTP {r.status} {r.request.method} {r.url}")

        def failed(r: Any) -> None:
            self.problems.append(f"request failed: {r.url} ({r.failure})")

        def console(m: Any) -> None:
            if m.type in ("error", "warning") and "favicon" not in m.text:
                self.problems.append(f"console {m.type}: {m.text} at {m.location}")

        def page(p: Any) -> None:
            p.on("pageerror", lambda e: self.problems.append(f"JavaScript error: {e}"))
            p.on("console", console)

        context.on("request", request)
        context.on("response", response)
        context.on("requestfailed", failed)
        context.on("page", page)

        def only_loopback(route: Any) -> None:
            host = urlsplit(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                route.continue_()
            else:  # never let it out; the assertion on ``requests`` names it
                route.abort()

        context.route("**/*", only_loopback)

    def outside(self) -> list[str]:
        return [
            u for u in self.requests if not u.startswith(("data:", "blob:")) and urlsplit(u).hostname != "127.0.0.1"
        ]


def add_review_pair(ws: Path, a: str, b: str, probability: float) -> None:
    """One scored pair for the review queue, as ``resolve run`` keeps it (``resolve_edges``: id_l < id_r)."""
    lo, hi = sorted((a, b))
    with open_store(ws) as store:
        store.write_table("resolve_edges", pa.table({"id_l": [lo], "id_r": [hi], "match_probability": [probability]}))


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    ws = make_workspace(tmp_path_factory.mktemp("browser"))
    add_review_pair(ws, SUSPECT, FR_SUSPECT, 0.55)
    with serving(ws) as b:
        yield b


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium: install Debian's (apt-get install chromium) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start
        b = pw.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def log_in(page: Any, url: str, user: str, lands: str) -> None:
    """Log in through the form and wait until the page it lands on has loaded (its script included: leaving a page
    earlier aborts its requests, which the watch counts as failures)."""
    page.goto(f"{url}/login")
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.fill("#purpose", PURPOSE)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{url}{lands}", wait_until="load")


def shot(page: Any, name: str) -> Path:
    path = artefacts() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_an_analyst_works_a_case_in_the_browser_and_every_read_is_audited(browser: Any, bench: Bench) -> None:
    from playwright.sync_api import expect

    watch = Watch()
    context = browser.new_context(viewport={"width": 1366, "height": 850}, locale="en-GB")
    context.set_default_timeout(20_000)
    watch.attach(context)
    page = context.new_page()

    # log in: the purpose goes with every read of the session
    page.goto(f"{bench.url}/")
    expect(page).to_have_url(f"{bench.url}/login")
    shot(page, "01-login")
    log_in(page, bench.url, "analyst", "/")
    expect(page.locator(".who")).to_contain_text(PURPOSE)

    # search an Arabic-script spelling: the suspect, held in Latin script, comes first
    page.fill("#q", ARABIC)
    page.press("#q", "Enter")
    first = page.locator("#results tbody tr").first.locator("a")
    expect(first).to_have_text("Mohammed Al-Hassan")
    expect(page.locator("#search-note")).to_contain_text(ARABIC)
    shot(page, "02-search")

    # the entity: facts by originator with their markings and the originator's conditions
    first.click()
    expect(page).to_have_url(f"{bench.url}/entity/{SUSPECT}")
    expect(page.locator("h1")).to_have_text("Mohammed Al-Hassan")
    expect(page.locator("#facts h3")).to_have_text(["UK-NCA"])
    nationality = page.locator("#facts tr", has_text="nationality")
    expect(nationality.locator(".badge.hc")).to_have_text("H1")
    expect(nationality.locator(".caveat")).to_contain_text("H1:")
    expect(page.locator("#links tbody a")).to_have_attribute("href", f"/entity/{CALL}")  # his call to the victim
    expect(page.locator("#safeguarding")).to_be_hidden()
    shot(page, "03-entity")

    # the review queue: judge the waiting pair "different", giving the reason in the prompt
    page.click("nav a[href='/review']")
    row = page.locator("#review tbody tr", has_text="Karim Benali")
    expect(row).to_contain_text("Mohammed Al-Hassan")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept(REASON)

    page.once("dialog", answer)
    row.locator("button.judge-different").click()
    expect(row.locator(".done")).to_contain_text("judged different")
    assert asked and "different" in asked[0]
    shot(page, "04-review")
    page.reload()
    expect(page.locator("#review tbody")).to_contain_text("Nothing waiting for review.")

    # the network: Cytoscape draws on a canvas; the table lists the same nodes, the victim flagged as protected
    page.goto(f"{bench.url}/network/{SUSPECT}")
    expect(page.locator("#network-note")).to_contain_text("2 node(s), 1 tie(s)")
    expect(page.locator("#network-nodes tbody tr")).to_have_count(2)
    victim = page.locator("#network-nodes tbody tr", has_text="Amina Yusuf")
    expect(victim.locator(".badge.protected")).to_be_visible()
    expect(victim.locator("a.protected")).to_have_attribute("href", f"/entity/{VICTIM}")
    assert page.locator("#cy canvas").count() >= 1
    drawn = page.evaluate("() => document.querySelector('#cy').getBoundingClientRect().height")
    assert drawn > 100, drawn
    shot(page, "05-network")

    # the route map: Leaflet over the offline basemap (no tiles), one line per route, the operator linked
    page.click("nav a[href='/routes']")
    expect(page.locator("#route-table tbody tr")).to_have_count(2)
    crossing = page.locator("#route-table tbody tr", has_text="Gravelines")
    expect(crossing).to_contain_text("departure → arrival")
    expect(crossing.locator("a")).to_have_attribute("href", f"/entity/{FR_SUSPECT}")
    expect(page.locator("#map .leaflet-overlay-pane path.leaflet-interactive")).not_to_have_count(0)
    lines = page.locator("#map .leaflet-overlay-pane path.leaflet-interactive").count()
    assert lines >= 2 + 4, lines  # two routes and four places at least (the land is drawn too)
    shot(page, "06-routes")

    # the data-protection officer reads the audit log those reads wrote, in a session of their own
    dpo = browser.new_context(viewport={"width": 1366, "height": 850})
    dpo.set_default_timeout(20_000)
    watch.attach(dpo)
    audit_page = dpo.new_page()
    log_in(audit_page, bench.url, "dpo", "/audit")
    expect(audit_page.locator("#audit-verify")).to_contain_text("Chain intact")
    table = audit_page.locator("#audit tbody")
    for action in ("api login", f"api search {ARABIC!r}", "api read entity", "api read review queue",
                   "api judge pair different", "api read network", "api read routes"):  # fmt: skip
        expect(table.locator("td.action", has_text=action).first).to_be_visible()
    shot(audit_page, "07-audit")

    # and the log itself: each read by the analyst, with the purpose given at login and what it touched
    with open_store(bench.workspace, read_only=True) as store:
        log = [e.fields for e in audit.entries(store) if e.fields["user"] == "analyst"]
    assert {e["purpose"] for e in log} == {PURPOSE}
    touched = {str(e["action"]): e["touched"] for e in log}
    assert SUSPECT in touched[f"api search {ARABIC!r}"]["ids"]  # type: ignore[index]
    assert touched["api read entity"]["ids"] == [SUSPECT]  # type: ignore[index]
    assert set(touched["api judge pair different"]["ids"]) == {SUSPECT, FR_SUSPECT}  # type: ignore[index]
    assert set(touched["api read network"]["ids"]) == {SUSPECT, VICTIM}  # type: ignore[index]
    assert "api read routes" in touched

    for p in (*context.pages, *dpo.pages):
        p.wait_for_load_state("networkidle")  # nothing in flight is cut off by closing
    context.close()
    dpo.close()
    assert not watch.outside(), watch.outside()
    assert not watch.problems, watch.problems


def test_every_other_page_opens_cleanly_for_the_roles_that_may_see_it(browser: Any, bench: Bench) -> None:
    """The pages the case walk does not visit: a protected person's page with its safeguarding banner, targets
    (the victim only under safeguarding), flows, sharing, and the DPO's retention queue; an administrator is
    refused case pages with a page that says where to go instead."""
    from playwright.sync_api import expect

    watch = Watch()
    context = browser.new_context(viewport={"width": 1366, "height": 850})
    context.set_default_timeout(20_000)
    watch.attach(context)
    page = context.new_page()
    log_in(page, bench.url, "supervisor", "/")

    page.goto(f"{bench.url}/entity/{VICTIM}")
    expect(page.locator("#safeguarding")).to_contain_text("never a target")
    expect(page.locator("#facts tr", has_text="Amina Yusuf").locator(".badge.protected")).to_have_text("victim")
    shot(page, "08-protected-entity")

    page.click("nav a[href='/targets']")
    expect(page.locator("#protected a.protected")).to_have_attribute("href", f"/entity/{VICTIM}")
    expect(page.locator("#targets tbody")).not_to_contain_text("Amina Yusuf")
    shot(page, "09-targets")

    page.click("nav a[href='/flows']")
    expect(page.locator("#alerts li")).not_to_have_count(0)
    shot(page, "10-flows")

    page.click("nav a[href='/sharing']")
    expect(page.locator("#partners tbody")).to_contain_text("FR-OCRIEST")
    shot(page, "11-sharing")

    dpo = context.browser.new_context(viewport={"width": 1366, "height": 850})
    dpo.set_default_timeout(20_000)
    watch.attach(dpo)
    retention = dpo.new_page()
    log_in(retention, bench.url, "dpo", "/audit")
    expect(retention.locator("#audit-verify")).to_contain_text("Chain intact")  # loaded before leaving it
    retention.click("nav a[href='/retention']")
    expect(retention.locator("#retention-note")).to_contain_text("0 statement(s)")
    expect(retention.locator("nav a[href='/routes']")).to_have_count(0)  # no case data for the DPO
    shot(retention, "12-retention")
    for p in (*context.pages, *dpo.pages):
        p.wait_for_load_state("networkidle")  # nothing in flight is cut off by closing
    context.close()
    dpo.close()
    assert not watch.outside(), watch.outside()
    assert not watch.problems, watch.problems

    # an administrator manages accounts only: a case page answers 403, as a page that says so
    admin = browser.new_context()
    refused = admin.new_page()
    log_in(refused, bench.url, "admin", "/users")
    expect(refused.locator("#users tbody")).to_contain_text("fr.liaison")  # the accounts page lists them
    answer = refused.goto(f"{bench.url}/routes")
    assert answer is not None and answer.status == 403
    expect(refused.locator("main .error")).to_contain_text("go to /users")
    admin.close()
