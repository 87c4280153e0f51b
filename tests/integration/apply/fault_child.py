"""Child process of the crash tests: applies one scripted batch and exits.

Usage: ``python fault_child.py URL PIPELINE TABLE SCENARIO``; ``CREDITBRIDGE_FAULT``
in the environment makes the applier kill itself at that step.
"""

from __future__ import annotations

import sys

from apply_events import filtered, rejection, upsert

from bridge.apply import Applier, ConflictPolicy, make_engine
from bridge.map.results import MapResult


def scenario(table: str, name: str) -> list[MapResult]:
    if name == "mixed":
        codes = {1: "a", 2: "b", 3: "way-too-long-code", 4: "d", 5: "e"}
        batch: list[MapResult] = [
            upsert(table, (20, key, 0), {"id": key, "code": code})
            for key, code in codes.items()
        ]
        batch.append(rejection((20, 7, 0), 7, "unmapped code 'ZZ'"))
        batch.append(filtered((20, 8, 0), 8))
        return batch
    same_lsn = [
        upsert(table, (30, 30, ordinal), {"id": 10 + ordinal, "code": "c"})
        for ordinal in range(3)
    ]
    return same_lsn[:1] if name == "lsn-first" else list(same_lsn)


def main(url: str, pipeline: str, table: str, name: str) -> None:
    engine = make_engine(url)
    applier = Applier(engine, default_policy=ConflictPolicy.source_wins())
    report = applier.apply_batch(pipeline, scenario(table, name))
    print(report.applied, report.dead_lettered, report.skipped)


if __name__ == "__main__":
    main(*sys.argv[1:5])
