"""EmbeddedCapture checks that need no JVM."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.capture.connectors import ConnectorFile
from bridge.capture.embedded import CaptureSource, EmbeddedCapture
from bridge.errors import CaptureError


def test_two_sources_with_one_name_are_refused(tmp_path: Path) -> None:
    connector = ConnectorFile("same", {}, tmp_path / "same.json")
    sources = [CaptureSource(connector, print), CaptureSource(connector, print)]

    with pytest.raises(CaptureError) as raised:
        EmbeddedCapture(sources, home=tmp_path)

    assert str(raised.value) == (
        "connector name 'same' is given twice; each source needs its own name and "
        "offsets; nothing was started"
    )
