"""A workbench on loopback for tests: a real DuckDB workspace with a node and a partner, real accounts, the real
application served by uvicorn on a free port, and httpx clients logged in as each role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from avellino.web.app import create_workbench
from avellino.web.users import Users
from tests.share.nodes import fact, make_node, person, register, write

PASSWORD = "correct horse battery"
ROLES = ("analyst", "supervisor", "dpo", "admin")
# ids live in their originator's namespace (``{slug}--{id}``)
SUSPECT = "uk-nca--p1"
VICTIM = "uk-nca--p2"
ONWARD = "de-bka--p3"  # received from DE-BKA under TLP:AMBER: never passed on
FR_SUSPECT = "fr-ocriest--p9"
EXCLUDED = "uk-nca--p4"  # H3 not:FR
CALL = "uk-nca--c1"
LEG = "uk-nca--l1"  # Milan -> Lille by lorry, operated by the French suspect
CROSSING = "uk-nca--x1"  # Gravelines -> Dover, organised by the French suspect


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def case_facts() -> list[dict[str, object]]:
    """A suspect, a victim he called, a person received from a third partner, one the originator keeps from France
    (H3 ``not:FR``), and a French suspect who operates a route leg and organises a crossing (places from
    ``web/data/places.csv``, for the route map)."""
    rows = [
        *person(SUSPECT, "Mohammed Al-Hassan", "UK-NCA"),
        fact(SUSPECT, "phone", "+447700900123", "UK-NCA"),
        fact(SUSPECT, "nationality", "iq", "UK-NCA", handling="H1"),
        *person(VICTIM, "Amina Yusuf", "UK-NCA", category="victim"),
        *person(ONWARD, "Dariusz Nowak", "DE-BKA", tlp="AMBER"),
        *person(EXCLUDED, "Omar Haddad", "UK-NCA", handling="H3", note="not:FR"),
        *person(FR_SUSPECT, "Karim Benali", "FR-OCRIEST"),
        fact(CALL, "id", CALL, "UK-NCA", schema="Call"),
        fact(CALL, "caller", SUSPECT, "UK-NCA", schema="Call"),
        fact(CALL, "receiver", VICTIM, "UK-NCA", schema="Call"),
        fact(CALL, "date", "2024-05-01", "UK-NCA", schema="Call"),
        *(
            fact(LEG, p, v, "UK-NCA", schema="Leg")
            for p, v in (
                ("id", LEG),
                ("origin", "Milan"),
                ("destination", "Lille"),
                ("transport", "lorry"),
                ("operator", FR_SUSPECT),
                ("people", "12"),
                ("startDate", "2024-04-20"),
            )
        ),
        *(
            fact(CROSSING, p, v, "UK-NCA", schema="Crossing")
            for p, v in (
                ("id", CROSSING),
                ("departurePlace", "Gravelines"),
                ("arrivalPlace", "Dover"),
                ("organiser", FR_SUSPECT),
                ("peopleOnBoard", "40"),
                ("date", "2024-05-02"),
            )
        ),
    ]
    types = {"caller": "entity", "receiver": "entity", "phone": "phone", "nationality": "country", "date": "date",
             "operator": "entity", "organiser": "entity", "startDate": "date", "people": "number",
             "peopleOnBoard": "number", "origin": "address", "destination": "address", "departurePlace": "address",
             "arrivalPlace": "address"}  # fmt: skip
    for r in rows:
        r["prop_type"] = types.get(str(r["prop"]), "name" if r["prop"] == "name" else None)
    return rows


@dataclass
class Bench:
    url: str
    workspace: Path

    def client(self, user: str, purpose: str = "OP-TEST network analysis") -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=60)
        r = c.post("/api/login", json={"user": user, "password": PASSWORD, "purpose": purpose})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf"]
        return c


def make_workspace(root: Path) -> Path:
    ws, uk = make_node(root, "UK-NCA", "GB")
    _, fr = make_node(root, "FR-OCRIEST", "FR")
    register(uk, fr)
    write(ws, case_facts())
    users = Users(uk.dir)
    for role in ROLES:
        users.add(role, role, PASSWORD)
    users.add("fr.liaison", "analyst", PASSWORD, agency="FR-OCRIEST")
    return ws


@contextmanager
def serving(ws: Path, node_dir: Path | None = None) -> Iterator[Bench]:
    """The workbench of ``ws`` (a folder, or a PostgreSQL URL given as a path) on a free loopback port; its node,
    partners and accounts in ``node_dir`` (default ``ws/node``)."""
    from avellino.share.node import load_node

    folder = node_dir or ws / "node"
    node = load_node(folder)
    app = create_workbench(ws, folder, node)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(300):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield Bench(f"http://127.0.0.1:{port}", ws)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
