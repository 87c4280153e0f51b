"""``creditbridge demo``: reset, seed, start the bridge, play the day, summarise.

The bridge runs in the main thread (its capture installs the SIGINT/SIGTERM handlers
there); the day is played from the thread ``Bridge.run`` calls ``on_ready`` in, once
both engines stream. Logs go to ``<home>/logs/demo.log``; the terminal shows the day.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from bridge.demo.errors import DemoError
from bridge.demo.lock import demo_lock
from bridge.demo.play import DayPlayer, DayReport, StepResult
from bridge.demo.registries import Registries
from bridge.demo.reset import PG_SLOT, reset_demo
from bridge.demo.scenario import CREDIT_CHINA, NECIPS, PENALTIES, STEPS
from bridge.demo.show import (
    PlainLine,
    day_table,
    difference_lines,
    step_line,
    summary_lines,
    views_line,
)
from bridge.devenv.model import DevEnv
from bridge.errors import BridgeError
from bridge.observe.metrics import Metrics
from bridge.pipeline.config import RunConfig
from bridge.pipeline.runner import Bridge

log = logging.getLogger(__name__)

_SLOT_RELEASE_SECONDS = 30.0


@dataclass(frozen=True)
class DemoOptions:
    config: Path = Path("creditbridge.yaml")
    seed: int = 1
    count: int = 200
    pace: float = 1.0
    keep_running: bool = False
    http_port: int | None = None


def run_demo(options: DemoOptions, console: Console) -> bool:
    """Play the demo; True when both registries agree and every step did its part."""
    from bridge.cli.run import use_dev_environment
    from bridge.devenv.api import builds_mysql_first, ensure_up
    from bridge.pipeline.config import load_run_config

    use_dev_environment()
    with console.status(_starting_servers(builds_mysql_first())):
        env = ensure_up()
    config = _demo_config(load_run_config(options.config), options)
    log_path = config.home / "logs" / "demo.log"
    def waiting() -> None:
        console.print(
            "Waiting for the demo lock: another demo or an end-to-end test is using "
            "the demo pipelines…"
        )

    with demo_lock(env.home, on_wait=waiting), _log_to(log_path):
        console.print(PlainLine(f"Logs go to {log_path}"), style="dim")
        registries = Registries(env)
        try:
            return _run_locked(options, config, env, registries, console)
        finally:
            registries.close()


def _starting_servers(build_log: Path | None) -> str:
    if build_log is None:
        return "Starting the local PostgreSQL and MySQL servers…"
    return (
        "Building the MySQL server, first time only: a Debian chroot from the "
        f"mirror, about three minutes (progress in {escape(str(build_log))})…"
    )


def _demo_config(config: RunConfig, options: DemoOptions) -> RunConfig:
    """The run configuration with Debezium quiet and, if asked, another port."""
    jvm = config.jvm.model_copy(update={"debezium_log_level": "ERROR"})
    observe = config.observe
    if options.http_port is not None:
        observe = observe.model_copy(update={"http_port": options.http_port})
    return config.model_copy(update={"jvm": jvm, "observe": observe})


def _run_locked(
    options: DemoOptions,
    config: RunConfig,
    env: DevEnv,
    registries: Registries,
    console: Console,
) -> bool:
    from bridge.devenv.generator import seed_both
    from bridge.pipeline.runner import prepare

    _wait_for_slot(registries, console)
    with console.status("Resetting the demo tables and seeding both registries…"):
        reset_demo(env, config.home)
        seeded = seed_both(env, seed=options.seed, count=options.count)
        registries.publish(CREDIT_CHINA, [p for p in PENALTIES
                                          if p.published_on_cc_at_start])
        registries.publish(NECIPS, [p for p in PENALTIES if p.on_necips])
    console.print(
        f"Seeded {seeded.count} penalties per registry (seed {seeded.seed}) and "
        f"{len(PENALTIES)} for the day's story."
    )
    console.print(PlainLine(views_line("Before the bridge", registries.displayed()), 2))

    metrics = Metrics()
    with console.status("Checking mappings against both databases…"):
        bridge = prepare(config, metrics=metrics)
    day = _Day(bridge, registries, metrics, options, console)
    console.print("Starting Debezium (one JVM, two engines) and the bridge…")
    day.start()
    try:
        bridge.run()
    finally:
        day.bridge_ended.set()
    if isinstance(day.error, BridgeError):
        raise day.error
    if day.error is not None:
        raise DemoError(
            f"the demo day failed: {type(day.error).__name__}: {day.error}; see "
            f"{config.home / 'logs' / 'demo.log'} for the traceback"
        ) from day.error
    if day.report is None:
        raise DemoError("the demo was interrupted before its day ended")
    return day.report.ok


def _wait_for_slot(registries: Registries, console: Console) -> None:
    """Give a bridge that just stopped time to let go of the demo slot.

    PostgreSQL ends a walsender only once it notices its client is gone, a few
    seconds after a bridge stops; reset_demo refuses a slot in use.
    """
    deadline = time.monotonic() + _SLOT_RELEASE_SECONDS
    pid = registries.slot_in_use(PG_SLOT)
    if pid is None:
        return
    console.print(f"Waiting for server process {pid} to release slot {PG_SLOT}…")
    while pid is not None and time.monotonic() < deadline:
        time.sleep(0.5)
        pid = registries.slot_in_use(PG_SLOT)


class _Day:
    """The day, played in a worker thread while the bridge runs in the main one."""

    def __init__(
        self,
        bridge: Bridge,
        registries: Registries,
        metrics: Metrics,
        options: DemoOptions,
        console: Console,
    ) -> None:
        self._bridge = bridge
        self._registries = registries
        self._player = DayPlayer(registries, metrics, pace=options.pace)
        self._options = options
        self._console = console
        self.report: DayReport | None = None
        self.error: BaseException | None = None
        self.bridge_ended = threading.Event()

    def start(self) -> None:
        """Play the day in a worker thread once both engines stream.

        Not through ``Bridge.run(on_ready=...)``: its waiting thread starts before the
        engines exist and takes "no engines" for "all ended", so it never calls back.
        """
        worker = threading.Thread(
            target=self._when_streaming, name="demo-day", daemon=True
        )
        worker.start()

    def _when_streaming(self) -> None:
        while not self._bridge.streaming():
            if self.bridge_ended.wait(0.2):
                return
        self.play(self._bridge)

    def play(self, bridge: Bridge) -> None:
        log.info("both capture engines stream; the day starts")
        try:
            self.report = self._play()
        except BaseException as exc:
            log.exception("the demo day failed")
            self.error = exc
        finally:
            if not (self._options.keep_running and self.error is None):
                bridge.request_stop()

    def _play(self) -> DayReport:
        console = self._console
        before = self._registries.displayed()
        with console.status("Debezium snapshot: sharing the outcomes seeded so far…"):
            snapshot = self._player.wait_for_snapshot()
        console.print(
            f"Snapshot done in {snapshot.seconds:.1f} s: {snapshot.to_necips} outcomes "
            f"staged on NECIPS, {snapshot.to_credit_china} on Credit China."
        )
        displayed = self._registries.displayed()
        console.print(PlainLine(views_line("After the snapshot", displayed), 2))
        for line in difference_lines(displayed):
            console.print(PlainLine(line, 2))
        console.print()
        report = DayReport(before=before, snapshot=snapshot)
        self._play_steps(report)
        self._player.finish(report)
        console.print()
        for line in summary_lines(report):
            console.print(PlainLine(line))
        verdict = "[bold green]OK[/]" if report.ok else "[bold red]FAILED[/]"
        console.print(f"creditbridge demo: {verdict}")
        if self._options.keep_running:
            self._announce_status_page()
        return report

    def _play_steps(self, report: DayReport) -> None:
        console = self._console
        results = report.results
        with Live(day_table(results), console=console, auto_refresh=False) as live:

            def started(result: StepResult) -> None:
                results.append(result)
                live.console.print(step_line(len(results), result))
                live.update(day_table(results), refresh=True)

            def finished(result: StepResult) -> None:
                live.update(day_table(results), refresh=True)

            for step in STEPS:
                self._player.play(step, started, finished)

    def _announce_status_page(self) -> None:
        server = self._bridge.server
        url = server.url if server is not None else "(no status server)"
        self._console.print(
            f"The bridge keeps running; status page: {url} — press Ctrl-C to stop."
        )


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """Route the bridge's logs to *path* for the demo's duration."""
    from bridge.observe.logging import configure_logging

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handler = configure_logging("INFO", json=False, stream=handle)
        try:
            yield
        finally:
            logging.getLogger().removeHandler(handler)
