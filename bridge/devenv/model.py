"""The values ``bridge.devenv.api`` hands out: accounts, servers, environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote

Role = Literal["admin", "capture", "writer"]
Kind = Literal["postgresql", "mysql"]
ROLES: tuple[Role, ...] = ("admin", "capture", "writer")

SCHEMES: dict[Kind, str] = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
}


@dataclass(frozen=True)
class Account:
    """A database login. The password never appears in ``repr``."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Server:
    """One database server and the three accounts of the bridge on it."""

    kind: Kind
    host: str
    port: int
    database: str
    admin: Account
    capture: Account
    writer: Account

    def account(self, role: Role) -> Account:
        accounts = {"admin": self.admin, "capture": self.capture, "writer": self.writer}
        return accounts[role]

    def url(self, role: Role) -> str:
        """SQLAlchemy URL for *role*, user and password URL-quoted."""
        account = self.account(role)
        user = quote(account.user, safe="")
        password = quote(account.password, safe="")
        url = f"{SCHEMES[self.kind]}://{user}:{password}@{self.host}:{self.port}"
        url = f"{url}/{quote(self.database, safe='')}"
        if self.kind == "mysql":
            url += "?charset=utf8mb4"
        return url


@dataclass(frozen=True)
class DevEnv:
    """Both demo servers, ready to use, and the home directory holding their state."""

    postgres: Server
    mysql: Server
    home: Path


@dataclass(frozen=True)
class ServerStatus:
    """What ``status`` reports about one server."""

    kind: Kind
    state: Literal["running", "stopped", "absent", "external"]
    pid: int | None
    port: int | None
    location: str
