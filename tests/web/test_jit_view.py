"""The JIT view of the workbench over HTTP: a member's staff see the case (members, contributions, persons resolved
across members, the case network with the victim flagged), read through the JIT's policy and audited."""

from __future__ import annotations

from pathlib import Path

from avellino.share import audit, jit
from avellino.store import open_store
from avellino.web.users import Users
from tests.share.test_jit_case import jit_nodes  # noqa: F401  (the fixture: UK and France in a signed JIT)
from tests.web.bench import PASSWORD, serving


def test_a_member_sees_the_case_network_in_the_workbench(jit_nodes: dict[str, tuple[Path, jit.Node]]) -> None:  # noqa: F811
    fr_ws, fr = jit_nodes["FR-OCRIEST"]
    Users(fr.dir).add("analyst", "analyst", PASSWORD)
    with serving(fr_ws) as bench:
        c = bench.client("analyst", purpose="investigation")
        listed = c.get("/api/jits").json()["jits"]
        assert [j["name"] for j in listed] == ["JIT-CHANNEL"] and "FR-OCRIEST" in listed[0]["members"]
        case = c.get("/api/jits/JIT-CHANNEL").json()
        assert case["resolved_persons"] == ["c-karim"]
        net = case["network"]
        assert net["cross_member_links"] == 3
        victim = next(n for n in net["nodes"] if n["id"] == "uk-nca--v1")
        assert victim["protected"] and [f["id"] for f in net["safeguarding"]] == ["uk-nca--v1"]
        assert c.get("/api/jits/NO-SUCH-JIT").json()["error"]["code"] == "not_found"
        page = c.get("/jit/JIT-CHANNEL")
        assert page.status_code == 200 and "cytoscape" in page.text
    with open_store(fr_ws, read_only=True) as store:
        actions = [e.fields["action"] for e in audit.entries(store)]
    assert "api read jit JIT-CHANNEL" in actions
