"""Observe stage: logging, metrics, lag, health endpoints, status page and report.

What the pipeline calls (each module stands alone; nothing is created at import)::

    from bridge.observe.logging import configure_logging
    from bridge.observe.metrics import Metrics
    from bridge.observe.lag import LagTracker, read_slot_retention
    from bridge.observe.health import Readiness, lag_check
    from bridge.observe.status import MemoryStatusSource, PipelineStatus
    from bridge.observe.http import ObserveServer
    from bridge.observe.sampler import StatusSampler
    from bridge.observe.progress import progress

    configure_logging("INFO", json=False)
    metrics, lag = Metrics(), LagTracker()
    metrics.read_lag_from(lag.readings)
    readiness = Readiness()
    readiness.add_check("lag:xyzg-to-gsxt", lag_check(lag, "xyzg-to-gsxt", 60.0))
    server = ObserveServer(metrics, status_source, readiness, port=9187)
    server.start()
    StatusSampler(metrics, lag, status_source.history).start(interval_seconds=5)
    ...
    metrics.observe_batch("xyzg-to-gsxt", {("xyxf_jg", "c"): 12}, seconds)
    lag.heartbeat_applied("xyzg-to-gsxt", beat_at, seq)

This package is kept free of imports at package level so that stages importing one
module (say ``metrics``) do not pull in the database code of ``offline``.
"""
