"""Reading Kafka Connect's status answers."""

from __future__ import annotations

from bridge.capture.connect import ConnectorStatus, TaskState


def test_status_keeps_the_first_line_of_a_failed_tasks_trace() -> None:
    answer = {
        "name": "necips-outcomes",
        "connector": {"state": "RUNNING", "worker_id": "127.0.0.1:8083"},
        "tasks": [
            {
                "id": 0,
                "state": "FAILED",
                "worker_id": "127.0.0.1:8083",
                "trace": "org.apache.kafka.connect.errors.ConnectException: "
                "db history topic is missing\n\tat io.debezium...",
            }
        ],
        "type": "source",
    }

    status = ConnectorStatus.from_json(answer)

    assert status == ConnectorStatus(
        name="necips-outcomes",
        state="RUNNING",
        worker="127.0.0.1:8083",
        tasks=(
            TaskState(
                id=0,
                state="FAILED",
                worker="127.0.0.1:8083",
                trace=answer["tasks"][0]["trace"],  # type: ignore[index]
            ),
        ),
    )
    assert status.tasks[0].error == (
        "org.apache.kafka.connect.errors.ConnectException: db history topic is missing"
    )
    assert status.healthy is False


def test_running_or_paused_with_tasks_is_healthy_and_no_tasks_is_not() -> None:
    running = TaskState(id=0, state="RUNNING", worker="w")
    paused = TaskState(id=1, state="PAUSED", worker="w")

    assert ConnectorStatus("c", "RUNNING", "w", (running, paused)).healthy is True
    assert ConnectorStatus("c", "RUNNING", "w", ()).healthy is False
