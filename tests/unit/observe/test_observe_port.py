"""The status server's port taken: the likely reason first, then the way out."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import pytest

from bridge.errors import ConfigError
from bridge.observe.http import ObserveServer
from bridge.observe.metrics import Metrics


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_port_names_a_second_bridge_first(taken_port: int) -> None:
    """Pins: "choose another observe.http_port" for a bridge started twice."""
    with pytest.raises(ConfigError) as raised:
        ObserveServer(Metrics(), port=taken_port).start()

    assert str(raised.value) == (
        f"the status server cannot listen on 127.0.0.1:{taken_port} (Address "
        "already in use): another creditbridge may already be running with this "
        "configuration (`creditbridge status` shows it); stop it first, or if "
        "another program holds the port, choose another observe.http_port"
    )


def test_another_refusal_asks_for_another_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("bridge.observe.http.ThreadingHTTPServer", refuse)

    with pytest.raises(ConfigError) as raised:
        ObserveServer(Metrics(), port=80).start()

    assert str(raised.value) == (
        "the status server cannot listen on 127.0.0.1:80 (Permission denied); "
        "choose another observe.http_port"
    )
