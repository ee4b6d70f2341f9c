"""deploy/: the Docker Compose file's init step and the systemd unit run `avellino init` as written, against the
real server of AVELLINO_TEST_PG_URL (no container runtime is needed: the command is taken from the files)."""

from __future__ import annotations

import shlex
import uuid

import pytest
import yaml

from tests.conftest import PG_URL, REPO, pg_schema_url
from tests.store.test_postgres_schema import avellino, query

DEPLOY = REPO / "deploy"


def compose() -> dict[str, dict[str, object]]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


def test_the_compose_file_runs_init_once_the_server_is_healthy() -> None:
    services = compose()
    assert services["init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "healthcheck" in services["postgres"]
    command = services["init"]["command"]
    assert isinstance(command, list) and command[:2] == ["init", "--upgrade"]
    build = services["init"]["build"]
    assert isinstance(build, dict) and (REPO / str(build["dockerfile"])).is_file()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)")
@pytest.mark.parametrize("recipe", ["compose", "systemd"])
def test_the_deploy_recipes_set_up_a_workspace_and_its_roles(recipe: str) -> None:
    """The roles SQL the postgres image runs on first start, then the recipe's own `avellino init` arguments, with
    this test's schema as the workspace and role names of its own (roles belong to the whole server)."""
    suffix = uuid.uuid4().hex[:8]
    renamed = {"avellino_analyst": f"avellino_analyst_{suffix}", "avellino_writer": f"avellino_writer_{suffix}"}
    url = pg_schema_url(init=False)
    sql = (DEPLOY / "initdb" / "10-avellino-roles.sql").read_text(encoding="utf-8")
    for old, new in renamed.items():
        sql = sql.replace(old, new)
    if recipe == "compose":
        args = [str(a) for a in compose()["init"]["command"]]  # type: ignore[attr-defined]
    else:
        unit = (DEPLOY / "avellino-init.service").read_text(encoding="utf-8")
        exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
        program, *args = shlex.split(exec_start.removeprefix("ExecStart="))
        assert program.endswith("/avellino")
    args = [renamed.get(a, a) for a in args]
    if "--workspace" in args:
        args[args.index("--workspace") + 1] = url
    else:
        args += ["--workspace", url]  # the unit names the database in AVELLINO_STORE_URL
    try:
        query(str(PG_URL), sql)
        done = avellino(*args)
        assert done.returncode == 0, done.stderr
        analyst, writer = renamed.values()
        table = f"{query(url, 'SELECT current_schema()')[0][0]}.stmt"
        privileges = "SELECT has_table_privilege(%s, %s, %s)"
        assert query(url, privileges, (analyst, table, "SELECT")) == [(True,)]
        assert query(url, privileges, (analyst, table, "INSERT")) == [(False,)]
        assert query(url, privileges, (writer, table, "INSERT")) == [(True,)]
    finally:
        for role in renamed.values():
            if query(str(PG_URL), "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
                query(str(PG_URL), f"DROP OWNED BY {role}")
                query(str(PG_URL), f"DROP ROLE {role}")
