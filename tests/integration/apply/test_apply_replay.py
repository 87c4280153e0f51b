"""Dead letters people can work: replay with the current mapping, discard, CLI."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from apply_events import MAPPING, upsert
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bridge.apply import Applier, ConflictPolicy
from bridge.apply.replay import DeadLetterDesk, ReplayResult
from bridge.apply.schema import dead_letter
from bridge.cli.main import app
from bridge.events import ChangeEvent
from bridge.map.results import MapResult, TargetOperation, TargetRow

pytestmark = pytest.mark.db


class FixedMapping:
    """Stands for a mapping file corrected after the failure: it shortens the code."""

    conflict = type("Conflict", (), {"policy": "source_wins", "column": None})()
    metadata_columns = type(
        "Meta",
        (),
        dict.fromkeys(
            ("origin", "origin_value", "source_position", "source_commit_time",
             "applied_at"),
        ),
    )()  # fmt: skip
    delete_policy = type("Delete", (), {"policy": "delete", "column": None})()

    def __init__(self, target: str) -> None:
        self.target_table = target

    def apply(self, event: ChangeEvent) -> MapResult:
        assert event.after is not None
        values = {"id": event.after["id"], "code": event.after["code"][:5].upper()}
        fixed = replace(MAPPING, version="v2")
        return TargetRow(
            self.target_table, TargetOperation.UPSERT, {"id": values["id"]}, values,
            event, fixed,
        )  # fmt: skip


@pytest.fixture
def failed(engine: Engine, pipeline: str, make_table: Any) -> tuple[str, int]:
    target: str = make_table("t", "id int primary key, code varchar(5)")
    applier = Applier(engine, default_policy=ConflictPolicy.source_wins())
    report = applier.apply_batch(
        pipeline, [upsert(target, (1, 1, 0), {"id": 2, "code": "way-too-long-code"})]
    )
    return target, report.dead_letter_ids[0]


def test_replay_runs_the_current_mapping_and_applies_once(
    engine: Engine, failed: tuple[str, int]
) -> None:
    target, letter_id = failed
    desk = DeadLetterDesk(engine, load_mapping=lambda path: FixedMapping(target))

    first = desk.replay([letter_id])
    second = desk.replay([letter_id])

    assert [(o.result, o.message) for o in first] == [
        (ReplayResult.REPLAYED, f"written to {target}")
    ]
    assert [(o.result, o.message) for o in second] == [
        (ReplayResult.SKIPPED, "already replayed")
    ]
    with engine.connect() as connection:
        assert connection.execute(sa.text(f"SELECT * FROM {target}")).all() == [
            (2, "WAY-T")
        ]
        status = connection.execute(
            sa.select(
                dead_letter.c.status, dead_letter.c.replayed_at.is_not(None)
            ).where(dead_letter.c.id == letter_id)
        ).one()
    assert tuple(status) == ("replayed", True)


def test_replay_with_the_unchanged_mapping_fails_again_and_stays_new(
    engine: Engine, failed: tuple[str, int]
) -> None:
    target, letter_id = failed

    class SameMapping(FixedMapping):
        def apply(self, event: ChangeEvent) -> MapResult:
            assert event.after is not None
            values = dict(event.after)
            return TargetRow(
                self.target_table, TargetOperation.UPSERT, {"id": values["id"]},
                values, event, MAPPING,
            )  # fmt: skip

    desk = DeadLetterDesk(engine, load_mapping=lambda path: SameMapping(target))

    [outcome] = desk.replay([letter_id])

    assert outcome.result is ReplayResult.FAILED
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(dead_letter.c.status, dead_letter.c.attempts).where(
                dead_letter.c.id == letter_id
            )
        ).one()
    assert tuple(row) == ("new", 2)


def test_cli_lists_shows_and_discards(engine: Engine, failed: tuple[str, int]) -> None:
    _, letter_id = failed
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()

    listed = runner.invoke(app, ["dlq", "list", "--url", url, "--limit", "100000"])
    shown = runner.invoke(app, ["dlq", "show", str(letter_id), "--url", url])
    discarded = runner.invoke(
        app, ["dlq", "discard", str(letter_id), "--reason", "test row", "--url", url]
    )
    again = runner.invoke(app, ["dlq", "replay", str(letter_id), "--url", url])

    assert listed.exit_code == 0, listed.output
    assert [str(letter_id)] in [line.split()[:1] for line in listed.output.splitlines()]
    assert shown.exit_code == 0, shown.output
    assert "way-too-long-code" in shown.output
    assert discarded.exit_code == 0, discarded.output
    assert "discarded" in discarded.output and "test row" in discarded.output
    assert again.exit_code == 0, again.output
    assert "already discarded" in again.output


def test_cli_without_a_target_lists_both_demo_databases(
    engine: Engine, pipeline: str, failed: tuple[str, int]
) -> None:
    """Pins: README's plain `dlq list` failing with "dlq needs --target"."""
    _, letter_id = failed
    label = "pg" if engine.dialect.name == "postgresql" else "mysql"

    result = CliRunner().invoke(
        app, ["dlq", "list", "--pipeline", pipeline], env={"COLUMNS": "300"}
    )

    assert result.exit_code == 0, result.output
    # id, key, status, pipeline, database; the error on the lines below.
    rows = [
        [words[0], words[-1], words[-2]]
        for words in map(str.split, result.output.splitlines())
        if words and words[0].isdigit()
    ]
    assert rows == [[str(letter_id), label, pipeline]]


def test_cli_show_names_the_target_table_of_a_refused_row(
    engine: Engine, failed: tuple[str, int]
) -> None:
    """Pins: `dlq show` with a blank target_table row."""
    target, letter_id = failed
    label = "pg" if engine.dialect.name == "postgresql" else "mysql"

    result = CliRunner().invoke(
        app, ["dlq", "show", str(letter_id), "--target", label], env={"COLUMNS": "300"}
    )

    assert result.exit_code == 0, result.output
    cells = {
        parts[0]: parts[1]
        for line in result.output.splitlines()
        if line.startswith("│")
        for parts in [[c.strip() for c in line.strip("│").split("│")]]
    }
    assert (cells["database"], cells["target_table"]) == (label, target)


def test_cli_replay_all_reports_an_unreadable_mapping_and_keeps_the_letter(
    engine: Engine, pipeline: str, failed: tuple[str, int]
) -> None:
    _, letter_id = failed
    url = engine.url.render_as_string(hide_password=False)

    result = CliRunner().invoke(
        app,
        ["dlq", "replay", "--all", "--pipeline", pipeline, "--url", url],
        env={"COLUMNS": "300"},
    )

    assert result.exit_code == 1
    assert "failed again" in result.output
    assert "/nonexistent/test.yaml:1:1: (file): cannot read the file" in result.output
    assert result.output.splitlines()[-1] == (
        f"Dead letter {letter_id} failed again and stays new. Where the source row "
        "is wrong, correct it there: the bridge captures and applies the corrected "
        "row, then `creditbridge dlq discard ID --reason TEXT` closes the letter. "
        "Where the mapping is wrong, fix it and replay again."
    )
    with engine.connect() as connection:
        status = connection.execute(
            sa.select(dead_letter.c.status).where(dead_letter.c.id == letter_id)
        ).scalar()
    assert status == "new"
