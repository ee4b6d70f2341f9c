"""The API keeps the promises of its own OpenAPI spec: Schemathesis reads ``/openapi.json`` from the workbench on
loopback and sends every ``/api`` operation generated requests, valid ones and invalid ones, as a logged-in
supervisor (every case-data right) and as the data-protection officer (the audit and the retention queue; refused the
rest). No answer may be a server error, and every answer (status code, content type, body) must be one the spec
documents, the one error shape included.

Every failure is collected (operation, check, the request as ``curl``) instead of stopping at the first, so one run
names them all; the figures (operations, examples, failures) are printed for the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.bench import PASSWORD, SUSPECT, Bench, make_workspace, serving

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: generated requests per operation, role and mode: enough to reach every documented answer, small enough for
#: ``make test``
EXAMPLES = 12
#: ending the session would end the run: logout is called once, by hand, at the end
LOGOUT = "POST /api/logout"


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    no_negative: set[str] = field(default_factory=set)

    def report(self) -> dict[str, Any]:
        return {
            "operations": len(self.operations),
            "examples": self.examples,
            "statuses": dict(sorted(self.statuses.items())),
            "failures": len(self.failures),
            "operations_without_invalid_input": len(self.no_negative),
        }


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    ws = make_workspace(tmp_path_factory.mktemp("schema"))
    with serving(ws) as b:
        yield b


@pytest.fixture(scope="module")
def clients(bench: Bench) -> dict[str, requests.Session]:
    """Everyone logs in before the fuzzer's failed logins throttle this address (``sessions.throttled``)."""
    return {user: session(bench.url, user) for user in ("supervisor", "dpo", "analyst")}


def session(url: str, user: str) -> requests.Session:
    """A logged-in session: its cookie and its CSRF header go with every generated request."""
    s = requests.Session()
    r = s.post(f"{url}/api/login", json={"user": user, "password": PASSWORD, "purpose": "OP-TEST API conformance"})
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrf"]
    return s


def fuzz(schema: Any, url: str, client: requests.Session, mode: GenerationMode, tally: Tally) -> None:
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label == LOGOUT:
            continue
        tally.operations.add(operation.label)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            tally.examples += 1
            try:
                response = case.call_and_validate(base_url=url, session=client, checks=CHECKS, timeout=30)
                tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - every failure is collected
                tally.failures.append(f"{case.operation.label} [{mode.value}]: {failure}\n  {case.as_curl_command()}")

        try:
            run()
        except Unsatisfiable:  # no invalid request exists (an operation without parameters or body)
            assert mode is GenerationMode.NEGATIVE, operation.label
            tally.no_negative.add(operation.label)


def test_every_answer_is_one_the_spec_documents_and_none_is_a_server_error(
    bench: Bench, clients: dict[str, requests.Session]
) -> None:
    schema = schemathesis.openapi.from_url(f"{bench.url}/openapi.json")
    spec_paths = set(requests.get(f"{bench.url}/openapi.json", timeout=30).json()["paths"])
    assert spec_paths and all(p.startswith("/api/") for p in spec_paths), spec_paths
    tally = Tally()
    for client in (clients["supervisor"], clients["dpo"]):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(schema, bench.url, client, mode, tally)
    print(json.dumps(tally.report()))
    assert tally.operations == {f"{m.upper()} {p}" for p, ms in schema.raw_schema["paths"].items() for m in ms} - {
        LOGOUT
    }
    # the reads reached the case (not only 404s and 422s), and the DPO was refused case data
    assert tally.statuses.get(200, 0) > 0 and tally.statuses.get(403, 0) > 0, tally.report()
    assert not tally.failures, "\n\n".join(tally.failures[:20]) + f"\n\n{json.dumps(tally.report())}"
    # the session survived the run and the known entity still answers
    supervisor = clients["supervisor"]
    assert supervisor.get(f"{bench.url}/api/entities/{SUSPECT}").status_code == 200
    for client in (clients["supervisor"], clients["dpo"]):
        assert client.post(f"{bench.url}/api/logout").status_code == 200
        assert client.get(f"{bench.url}/api/me").status_code == 401


def test_the_checks_catch_an_answer_the_spec_does_not_document(
    bench: Bench, clients: dict[str, requests.Session]
) -> None:
    """The same run against a spec that forgets the 404 of an entity: the fuzzer must report it."""
    spec = requests.get(f"{bench.url}/openapi.json", timeout=30).json()
    del spec["paths"]["/api/entities/{entity_id}"]["get"]["responses"]["404"]
    schema = schemathesis.openapi.from_dict(spec).include(path="/api/entities/{entity_id}")
    tally = Tally()
    fuzz(schema, bench.url, clients["analyst"], GenerationMode.POSITIVE, tally)
    assert tally.operations == {"GET /api/entities/{entity_id}"}
    assert tally.failures and all("Undocumented status code" in f and "Received: 404" in f for f in tally.failures), (
        tally.failures[:3]
    )
