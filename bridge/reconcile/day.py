"""One day's reconciliation over every pipeline of a run configuration."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from bridge.apply.engine import make_engine
from bridge.map import load_mapping
from bridge.map.schemas import reach
from bridge.reconcile.read import Sides, check_day
from bridge.reconcile.report import DirectionChecks, Report, build_report

_NOTHING = "nothing was reported"


@dataclass(frozen=True, slots=True)
class PipelineSides:
    """One pipeline as reconciliation needs it: its mappings and both accounts.

    ``source_url`` is the capture account (it alone may read the source table),
    ``target_url`` the writer account of the database holding the staging table.
    """

    name: str
    direction: str
    mappings: Sequence[Path]
    province_column: str | None
    source_url: str | sa.URL
    target_url: str | sa.URL
    source_where: str = "the source database"
    target_where: str = "the target database"


def reconcile_day(
    pipelines: Sequence[PipelineSides], day: date, province: str | None = None
) -> Report:
    """The report of Beijing *day*: every pipeline's changed outcomes, checked."""
    directions = []
    for pipeline in pipelines:
        mappings = [load_mapping(path) for path in pipeline.mappings]
        with _sides(pipeline) as sides:
            checks = [
                check
                for mapping in mappings
                for check in check_day(
                    mapping,
                    sides,
                    pipeline=pipeline.name,
                    province_column=pipeline.province_column,
                    day=day,
                    province=province,
                )
            ]
        directions.append(DirectionChecks(pipeline.name, pipeline.direction, checks))
    return build_report(day, directions, province)


@contextmanager
def _sides(pipeline: PipelineSides) -> Iterator[Sides]:
    source = make_engine(pipeline.source_url, poolclass=sa.NullPool)
    target = make_engine(pipeline.target_url, poolclass=sa.NullPool)
    try:
        reach(source, then=_NOTHING, whose=f" of {pipeline.source_where}")
        reach(target, then=_NOTHING, whose=f" of {pipeline.target_where}")
        yield Sides(source, target)
    finally:
        source.dispose()
        target.dispose()
