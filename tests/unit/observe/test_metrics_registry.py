"""The metrics registry: names, labels and values as Prometheus will parse them."""

from __future__ import annotations

from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from bridge.events import Operation
from bridge.observe.metrics import Metrics


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode("utf-8")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_two_metrics_objects_share_nothing() -> None:
    first, second = Metrics(), Metrics()
    first.observe_conflict()

    assert samples(first)[("creditbridge_conflicts_total", ())] == 1.0
    assert samples(second)[("creditbridge_conflicts_total", ())] == 0.0


def test_observe_batch_counts_per_table_and_operation() -> None:
    metrics = Metrics()
    batch = Counter({("xyxf_jg", Operation.CREATE): 3, ("xyxf_jg", "u"): 2})

    metrics.observe_batch("pg_to_mysql", batch, 0.04)

    values = samples(metrics)
    applied = "creditbridge_events_applied_total"
    assert values[(applied, (("operation", "create"), ("pipeline", "pg_to_mysql"),
                             ("table", "xyxf_jg")))] == 3.0
    assert values[(applied, (("operation", "update"), ("pipeline", "pg_to_mysql"),
                             ("table", "xyxf_jg")))] == 2.0
    assert values[("creditbridge_batch_size_count", ())] == 1.0
    assert values[("creditbridge_batch_size_sum", ())] == 5.0
    assert values[("creditbridge_batch_size_bucket", (("le", "5.0"),))] == 1.0
    assert values[("creditbridge_batch_size_bucket", (("le", "2.0"),))] == 0.0
    assert values[("creditbridge_apply_seconds_sum", ())] == 0.04
    assert values[("creditbridge_apply_seconds_bucket", (("le", "0.05"),))] == 1.0
    assert values[("creditbridge_apply_seconds_bucket", (("le", "0.025"),))] == 0.0


def test_retry_counts_as_error_too() -> None:
    metrics = Metrics()

    metrics.observe_retry("mysql_to_pg", TimeoutError("lock wait"))
    metrics.observe_error("mysql_to_pg", "MappingError")

    values = samples(metrics)
    assert values[("creditbridge_retries_total", (("error_class", "TimeoutError"),
                                                  ("pipeline", "mysql_to_pg")))] == 1.0
    assert values[("creditbridge_errors_total", (("error_class", "TimeoutError"),
                                                 ("pipeline", "mysql_to_pg")))] == 1.0
    assert values[("creditbridge_errors_total", (("error_class", "MappingError"),
                                                 ("pipeline", "mysql_to_pg")))] == 1.0


def test_lag_is_read_at_scrape_time() -> None:
    metrics = Metrics()
    current = [("pg_to_mysql", "bridge.heartbeat", 1.5)]
    metrics.read_lag_from(lambda: current)

    assert samples(metrics)[("creditbridge_end_to_end_lag_seconds", (
        ("pipeline", "pg_to_mysql"), ("table", "bridge.heartbeat")))] == 1.5

    current = [("pg_to_mysql", "bridge.heartbeat", 9.0)]
    assert samples(metrics)[("creditbridge_end_to_end_lag_seconds", (
        ("pipeline", "pg_to_mysql"), ("table", "bridge.heartbeat")))] == 9.0
