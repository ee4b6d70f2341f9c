"""Local accounts of the workbench: names, roles, Argon2id password hashes, kept beside the node's keys.

Why a file and not the store: accounts belong to the agency's node (a PostgreSQL workspace may be shared by several
servers of one agency, each with its node folder), and the store holds facts, which every analyst reads. The file
(``NODE_DIR/users.json``) is written atomically and readable by the node's operator only.

A user is either the agency's own staff (``agency`` empty: sees what the workspace holds, under the role's rights) or
a liaison officer of a registered partner (``agency`` = the partner's node name): the sharing policy then decides
every fact shown to them exactly as if it were sent to that partner.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from avellino.errors import ConfigError

USERS_FILE = "users.json"
MIN_PASSWORD = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

#: Argon2id with the library's defaults (RFC 9106 "second recommended" profile: 64 MiB, 3 passes).
HASHER = PasswordHasher()
#: verified against when a name is unknown, so a login takes as long whether or not the user exists
_DUMMY = HASHER.hash("avellino: no such user")


class Role(StrEnum):
    """What a user may do. Analysts read and judge; supervisors also confirm targets; the data-protection officer
    reads the audit log and the retention queue (and no case data); administrators manage accounts only."""

    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    DPO = "dpo"
    ADMIN = "admin"


ROLE_HELP = {
    Role.ANALYST: "search, read entities, networks, routes, flows and sharing; judge pairs",
    Role.SUPERVISOR: "everything an analyst does, and confirm targets",
    Role.DPO: "the audit log and the retention queue (no case data)",
    Role.ADMIN: "manage accounts (no case data)",
}


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password_hash: str
    agency: str = ""  #: empty: this agency's staff; else the partner node this liaison officer belongs to
    created: str = ""
    disabled: bool = False

    @property
    def is_partner(self) -> bool:
        return bool(self.agency)


def check_user_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"user name {name!r}: use 2-64 lower-case letters, digits, '.', '_' or '-' (starting with a letter or "
            "digit), e.g. 'j.smith'"
        )
    return name


def check_role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        raise ConfigError(f"role {role!r}: choose one of {', '.join(r.value for r in Role)}") from None


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


class Users:
    """The accounts file of one node folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / USERS_FILE

    def all(self) -> dict[str, User]:
        if not self.path.exists():
            return {}
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            return {r["name"]: User(**{**r, "role": Role(r["role"])}) for r in rows}
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{self.path}: the accounts file is damaged ({exc}); restore it from a backup") from exc

    def _write(self, users: dict[str, User]) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        rows = [{**asdict(u), "role": u.role.value} for u in sorted(users.values(), key=lambda u: u.name)]
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".users-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(rows, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add(self, name: str, role: str, password: str, agency: str = "", replace: bool = False) -> User:
        """Create (or, with ``replace``, reset) an account."""
        users = self.all()
        check_user_name(name)
        if name in users and not replace:
            raise ConfigError(f"user {name!r} exists; use --replace to reset the password or role")
        user = User(
            name=name,
            role=check_role(role),
            password_hash=HASHER.hash(check_password(password)),
            agency=agency,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        users[name] = user
        self._write(users)
        return user

    def disable(self, name: str) -> User:
        users = self.all()
        if name not in users:
            raise ConfigError(f"no user {name!r}")
        user = users[name]
        users[name] = User(**{**asdict(user), "role": user.role, "disabled": True})
        self._write(users)
        return users[name]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the name and password match an enabled account, else None (same work either way)."""
        user = self.all().get(name)
        try:
            HASHER.verify(user.password_hash if user else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or user.disabled:
            return None
        return user
