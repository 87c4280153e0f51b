"""The status server over real HTTP on loopback: metrics, health, readiness, status."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.capture.engine_metrics import StreamingReading
from bridge.errors import ConfigError
from bridge.events import Operation
from bridge.observe.health import Readiness, lag_check
from bridge.observe.http import ObserveServer
from bridge.observe.lag import LagTracker
from bridge.observe.logging import Redactor
from bridge.observe.metrics import Metrics
from bridge.observe.status import DeadLetterEntry, MemoryStatusSource, PipelineStatus

T0 = datetime(2026, 12, 3, 9, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.wall = T0
        self.mono = 50.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return self.wall


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode("utf-8")
            return response.status, response.headers["Content-Type"], body
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode("utf-8")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tracker(clock: FakeClock) -> LagTracker:
    return LagTracker(clock)


@pytest.fixture
def source() -> MemoryStatusSource:
    return MemoryStatusSource(now=lambda: T0)


@pytest.fixture
def server(tracker: LagTracker, source: MemoryStatusSource) -> Iterator[ObserveServer]:
    metrics = Metrics()
    metrics.read_lag_from(tracker.readings)
    readiness = Readiness(Redactor(["Wr1ter-7f3c9a2e"]))
    with ObserveServer(metrics, source, readiness, port=0) as running:
        yield running


Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: ObserveServer) -> Series:
    status, content_type, text = get(server.url + "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_metrics_scraped_over_http(
    server: ObserveServer, tracker: LagTracker, clock: FakeClock
) -> None:
    metrics = server.metrics
    metrics.observe_captured("pg_to_mysql", "xyxf_jg", Operation.CREATE, 4)
    metrics.observe_batch("pg_to_mysql", {("xyxf_jg", "c"): 4}, 0.2)
    metrics.observe_dead_letter("pg_to_mysql", "xyxf_jg")
    metrics.observe_conflict(2)
    metrics.observe_retry("mysql_to_pg", "OperationalError")
    metrics.observe_filtered("mysql_to_pg", "loop_guard", 3)
    metrics.set_slot_retained("creditbridge_pg", 16_777_216)
    metrics.read_sources_from(
        lambda: {
            "pg_to_mysql": StreamingReading(250, 8_100, 8_192),
            # Before its first event Debezium knows no lag: that series is left out.
            "mysql_to_pg": StreamingReading(None, 8_192, 8_192),
        }
    )
    clock.advance(2)
    tracker.heartbeat_applied("pg_to_mysql", T0)
    clock.advance(3)

    assert scrape(server) == {
        ("creditbridge_end_to_end_lag_seconds",
         (("pipeline", "pg_to_mysql"), ("table", "bridge.heartbeat"))): 5.0,
        ("creditbridge_events_captured_total",
         (("operation", "create"), ("pipeline", "pg_to_mysql"),
          ("table", "xyxf_jg"))): 4.0,
        ("creditbridge_events_applied_total",
         (("operation", "create"), ("pipeline", "pg_to_mysql"),
          ("table", "xyxf_jg"))): 4.0,
        ("creditbridge_dead_letters_total",
         (("pipeline", "pg_to_mysql"), ("table", "xyxf_jg"))): 1.0,
        ("creditbridge_conflicts_total", ()): 2.0,
        ("creditbridge_retries_total",
         (("error_class", "OperationalError"), ("pipeline", "mysql_to_pg"))): 1.0,
        ("creditbridge_errors_total",
         (("error_class", "OperationalError"), ("pipeline", "mysql_to_pg"))): 1.0,
        ("creditbridge_filtered_total",
         (("pipeline", "mysql_to_pg"), ("reason", "loop_guard"))): 3.0,
        **histogram("creditbridge_batch_size", 4.0,
                    (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)),
        **histogram("creditbridge_apply_seconds", 0.2,
                    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                     2.5, 5.0, 10.0, 30.0)),
        ("creditbridge_replication_slot_retained_bytes",
         (("slot", "creditbridge_pg"),)): 16_777_216.0,
        ("creditbridge_source_millis_behind", (("pipeline", "pg_to_mysql"),)): 250.0,
        ("creditbridge_source_queue_remaining",
         (("pipeline", "mysql_to_pg"),)): 8_192.0,
        ("creditbridge_source_queue_remaining",
         (("pipeline", "pg_to_mysql"),)): 8_100.0,
        ("creditbridge_source_queue_capacity",
         (("pipeline", "mysql_to_pg"),)): 8_192.0,
        ("creditbridge_source_queue_capacity",
         (("pipeline", "pg_to_mysql"),)): 8_192.0,
    }


def histogram(name: str, value: float, buckets: tuple[float, ...]) -> Series:
    """The samples of a histogram holding the one observation *value*."""
    series = {
        (f"{name}_bucket", (("le", str(float(bound))),)): float(value <= bound)
        for bound in buckets
    }
    series[(f"{name}_bucket", (("le", "+Inf"),))] = 1.0
    series[(f"{name}_count", ())] = 1.0
    series[(f"{name}_sum", ())] = value
    return series


def test_healthz(server: ObserveServer) -> None:
    assert get(server.url + "/healthz") == (
        200, "application/json; charset=utf-8", '{"alive": true}'
    )


def test_readyz_turns_unready_and_ready_again(
    server: ObserveServer, tracker: LagTracker, clock: FakeClock
) -> None:
    mysql_down = {"reason": None}
    server.readiness.add_check("engine:pg_to_mysql", lambda: None)
    server.readiness.add_check("database:necips", lambda: mysql_down["reason"])
    server.readiness.add_check("lag:pg_to_mysql", lag_check(tracker, "pg_to_mysql", 30))

    status, _, body = get(server.url + "/readyz")
    assert (status, json.loads(body)) == (503, {"ready": False, "checks": [
        {"name": "engine:pg_to_mysql", "ok": True},
        {"name": "database:necips", "ok": True},
        {"name": "lag:pg_to_mysql", "ok": False,
         "reason": "no heartbeat applied yet for pipeline pg_to_mysql"},
    ]})

    clock.advance(1)
    tracker.heartbeat_applied("pg_to_mysql", T0)
    status, _, body = get(server.url + "/readyz")
    assert (status, json.loads(body)) == (200, {"ready": True, "checks": [
        {"name": "engine:pg_to_mysql", "ok": True},
        {"name": "database:necips", "ok": True},
        {"name": "lag:pg_to_mysql", "ok": True},
    ]})

    clock.advance(45)
    mysql_down["reason"] = "127.0.0.1:3306 refused the connection"
    status, _, body = get(server.url + "/readyz")
    assert (status, json.loads(body)) == (503, {"ready": False, "checks": [
        {"name": "engine:pg_to_mysql", "ok": True},
        {"name": "database:necips", "ok": False,
         "reason": "127.0.0.1:3306 refused the connection"},
        {"name": "lag:pg_to_mysql", "ok": False,
         "reason": "lag of pipeline pg_to_mysql is 46.0 s, over the bound of 30.0 s"},
    ]})

    mysql_down["reason"] = None
    tracker.heartbeat_applied("pg_to_mysql", T0 + timedelta(seconds=44))
    status, _, body = get(server.url + "/readyz")
    assert status == 200
    assert json.loads(body)["ready"] is True


def test_readyz_check_that_raises_is_reported_redacted(server: ObserveServer) -> None:
    def broken() -> str | None:
        raise ConnectionError(
            "mysql+pymysql://cb_writer:Wr1ter-7f3c9a2e@127.0.0.1/gsxt unreachable"
        )

    server.readiness.add_check("database:necips", broken)

    status, _, body = get(server.url + "/readyz")
    assert (status, json.loads(body)) == (503, {"ready": False, "checks": [
        {"name": "database:necips", "ok": False,
         "reason": "check raised ConnectionError: "
                   "mysql+pymysql://cb_writer:***@127.0.0.1/gsxt unreachable"},
    ]})


def test_api_status_json(server: ObserveServer, source: MemoryStatusSource) -> None:
    source.set_pipeline(PipelineStatus(
        "pg_to_mysql", "Credit China → NECIPS", "running", lag_seconds=1.5,
        last_position="credit_china lsn=0/16B3748", events_per_second=12.0,
        applied_total=40, dead_letters=1, slot_retained_bytes=4096,
    ))
    source.history.record("pg_to_mysql", T0, 1.5, 12.0)
    source.add_dead_letters([DeadLetterEntry(
        7, "pg_to_mysql", "xyxf_jg", "xf_bh=XF001",
        "natural person 520102199003073128 does not cross", T0,
    )])
    source.set_outcomes_today({"310000": 5}, {"660000": 2})

    status, content_type, body = get(server.url + "/api/status")

    data = json.loads(body)
    assert (status, content_type) == (200, "application/json; charset=utf-8")
    assert data["generated_at"] == "2026-12-03T09:00:00+00:00"
    assert data["pipelines"] == [{
        "name": "pg_to_mysql", "direction": "Credit China → NECIPS",
        "state": "running", "lag_seconds": 1.5,
        "last_position": "credit_china lsn=0/16B3748", "last_applied_at": None,
        "events_per_second": 12.0, "applied_total": 40, "dead_letters": 1,
        "slot_retained_bytes": 4096,
    }]
    assert data["lag_history"] == {
        "pg_to_mysql": [{"at": "2026-12-03T09:00:00+00:00", "value": 1.5}]
    }
    assert data["throughput_history"] == {
        "pg_to_mysql": [{"at": "2026-12-03T09:00:00+00:00", "value": 12.0}]
    }
    assert data["dead_letters"] == [{
        "id": 7, "pipeline": "pg_to_mysql", "table": "xyxf_jg", "key": "xf_bh=XF001",
        "error": "natural person 520102********3128 does not cross",
        "failed_at": "2026-12-03T09:00:00+00:00", "position": None,
    }]
    assert len(data["provinces"]) == 32
    assert data["provinces"][8] == {
        "code": "310000", "name": "Shanghai", "to_necips": 5, "to_credit_china": 0,
    }
    assert data["provinces"][31] == {
        "code": "660000", "name": "Xinjiang Production and Construction Corps",
        "to_necips": 0, "to_credit_china": 2,
    }


def test_unknown_path_is_404(server: ObserveServer) -> None:
    assert get(server.url + "/nope") == (
        404, "application/json; charset=utf-8", '{"error": "no such page: /nope"}'
    )


def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        ObserveServer(Metrics(), host="0.0.0.0")

    assert str(info.value) == (
        "observe.host '0.0.0.0' is not a loopback address; the status server only "
        "listens on 127.0.0.1 or ::1 and was not started"
    )


def test_port_in_use_is_a_config_error(server: ObserveServer) -> None:
    second = ObserveServer(Metrics(), port=server.port)

    with pytest.raises(ConfigError) as info:
        second.start()

    assert str(info.value) == (
        f"the status server cannot listen on 127.0.0.1:{server.port} "
        "(Address already in use): another creditbridge may already be running "
        "with this configuration (`creditbridge status` shows it); stop it first, "
        "or if another program holds the port, choose another observe.http_port"
    )
