"""A second bridge on the same connector and home is refused before it starts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.capture.ownership import ConnectorClaim
from bridge.errors import CaptureError


def test_second_claim_on_the_same_connector_is_refused_with_the_holder(
    tmp_path: Path,
) -> None:
    first = ConnectorClaim(tmp_path, "credit-china-outcomes")
    first.acquire()

    with pytest.raises(CaptureError) as refused:
        ConnectorClaim(tmp_path, "credit-china-outcomes").acquire()

    assert str(refused.value) == (
        "connector credit-china-outcomes is already captured by another "
        f"creditbridge process (pid {os.getpid()}) with state in {tmp_path}; stop "
        "that process first, or give this run its own home and connector name; "
        "nothing was started"
    )
    first.release()


def test_claim_is_free_again_after_release(tmp_path: Path) -> None:
    first = ConnectorClaim(tmp_path, "necips-outcomes")
    first.acquire()
    first.release()

    second = ConnectorClaim(tmp_path, "necips-outcomes")
    second.acquire()
    assert (tmp_path / "locks" / "necips-outcomes.lock").read_text() == (
        f"{os.getpid()}\n"
    )
    second.release()


def test_other_connectors_and_homes_do_not_conflict(tmp_path: Path) -> None:
    claims = [
        ConnectorClaim(tmp_path / "a", "credit-china-outcomes"),
        ConnectorClaim(tmp_path / "a", "necips-outcomes"),
        ConnectorClaim(tmp_path / "b", "credit-china-outcomes"),
    ]
    for claim in claims:
        claim.acquire()

    assert [c.path.read_text() for c in claims] == [f"{os.getpid()}\n"] * 3
    for claim in claims:
        claim.release()
