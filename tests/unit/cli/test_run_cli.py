"""``creditbridge run`` refusing to start: what it says, and where it looked."""

from __future__ import annotations

import io
import os
import re
import signal
import time
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bridge.cli.main import app
from bridge.cli.run import _show_snapshot_progress
from bridge.observe.progress import SnapshotReading

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


def _one_line(output: str) -> str:
    return " ".join(output.split())


@pytest.fixture(autouse=True)
def quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "bridge.observe.logging.configure_logging", lambda level, json: None
    )
    for name in list(os.environ):
        if name.startswith("CREDITBRIDGE_"):
            monkeypatch.delenv(name)


def test_without_a_config_it_names_the_absolute_path_and_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins: `creditbridge.yaml:1:1: (file): cannot read the file` elsewhere."""
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["run"])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        f"FAILED: no run configuration at {tmp_path}/creditbridge.yaml; pass --config "
        "FILE, or run in the folder that holds creditbridge.yaml (--dev reads it "
        "too); nothing was started"
    )


def test_bracketed_text_in_a_failure_is_printed_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: rich taking `[mgMG]` and `[2024]` in an error for markup tags."""
    problem = "run.yaml:3:5: x: '^[0-9]+[mgMG]$' and 沪浦市监处[2024]123号"
    monkeypatch.setattr(
        "bridge.pipeline.config.read_run_config", lambda path: (None, [problem])
    )

    result = runner.invoke(app, ["run", "--config", str(REPO / "creditbridge.yaml")])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        f"FAILED: {problem} 1 problem in {REPO}/creditbridge.yaml; nothing was started"
    )


def test_a_heap_that_is_no_size_is_reported_in_our_words(tmp_path: Path) -> None:
    """Pins: `String should match pattern '^[0-9]+$'` (rich ate `[mgMG]`)."""
    shipped = (REPO / "creditbridge.yaml").read_text(encoding="utf-8")
    config = tmp_path / "run.yaml"
    config.write_text(
        shipped.replace("heap: 512m", "heap: lots")
        .replace(" connectors/", f" {REPO}/connectors/")
        .replace("[mappings/", f"[{REPO}/mappings/"),
        encoding="utf-8",
    )

    result = runner.invoke(app, ["run", "--config", str(config)])

    assert result.exit_code == 1
    assert _one_line(result.output).startswith(
        "FAILED: the bridge did not start; fix these problems and start again: "
        f"{config}:31:3: jvm.heap: expected a size such as 512m or 2g, got 'lots' "
        "pipeline xyzg-to-gsxt:"
    )
    assert "nothing was started" not in result.output


def test_a_sigterm_while_preparing_ends_start_up_at_once_and_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pins: SIGTERM before the engines ran killed `run` with status 143."""
    monkeypatch.setattr(
        "bridge.pipeline.config.read_run_config", lambda path: (object(), [])
    )

    def prepare(*_args: object, **_kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises into this wait
        raise AssertionError("start-up went on after SIGTERM")

    monkeypatch.setattr("bridge.pipeline.runner.prepare", prepare)

    result = runner.invoke(app, ["run", "--config", str(REPO / "creditbridge.yaml")])

    assert result.exit_code == 0, result.output
    assert _one_line(result.output) == (
        "stopped by SIGTERM while starting, before any change was captured; start "
        "again to resume from the stored offsets"
    )
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


class _Bridge:
    """The bridge at the CLI's seam: its run() receives a SIGINT before capture."""

    def __init__(self) -> None:
        self.stops = 0

    def request_stop(self) -> None:
        self.stops += 1

    def run(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 5
        while not self.stops and time.monotonic() < deadline:
            time.sleep(0.01)


def test_a_signal_once_the_bridge_is_built_asks_it_to_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bridge = _Bridge()
    monkeypatch.setattr(
        "bridge.pipeline.config.read_run_config", lambda path: (object(), [])
    )
    monkeypatch.setattr("bridge.pipeline.runner.prepare", lambda *a, **k: bridge)
    monkeypatch.setattr("bridge.pipeline.runner.describe_pipelines", lambda b: [])
    monkeypatch.setattr(
        "bridge.cli.run._show_snapshot_progress", lambda b, console: lambda: None
    )

    result = runner.invoke(app, ["run", "--config", str(REPO / "creditbridge.yaml")])

    assert (result.exit_code, bridge.stops) == (0, 1), result.output
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _Snapshotting:
    """The bridge at the progress display's seam."""

    def __init__(self, resumes: bool) -> None:
        self._resumes = resumes

    def resumes(self) -> bool:
        return self._resumes

    def snapshot_readings(self) -> list[SnapshotReading]:
        return [SnapshotReading("xyzg-to-gsxt", 3, "streaming")]


@pytest.mark.parametrize(
    ("resumes", "drawn"),
    [
        (False, ["initial snapshot", "xyzg-to-gsxt  3 rows  done, streaming"]),
        (True, []),
    ],
)
def test_snapshot_progress_is_drawn_only_when_a_snapshot_is_ahead(
    resumes: bool, drawn: list[str]
) -> None:
    """Pins: a restart from stored offsets drew "initial snapshot ... 0 rows"."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system=None, width=80)

    end = _show_snapshot_progress(_Snapshotting(resumes), console)  # type: ignore[arg-type]
    end()

    # The last frame the live display drew, without its cursor controls.
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    assert lines[-2:] == drawn


def test_a_config_given_that_is_not_there_is_named_without_other_advice(
    tmp_path: Path,
) -> None:
    """Pins: "run in the folder that holds nope.yaml" for a mistyped --config."""
    missing = tmp_path / "nope.yaml"

    result = runner.invoke(app, ["run", "--config", str(missing)])

    assert result.exit_code == 1
    assert _one_line(result.output) == (
        f"FAILED: no run configuration at {missing}; check the --config path; "
        "nothing was started"
    )
