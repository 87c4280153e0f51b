"""``run`` refuses a moved ``home`` that would snapshot both sources again.

The embedded engines keep their offsets under ``home``; a run configuration copied
into another folder resolves ``home: .creditbridge`` there, finds no offsets, and
Debezium would take a new snapshot although the targets' checkpoints show both
pipelines ran before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa
from bridge_process import BridgeProcess, wait_until, write_run_config

from bridge.checkpoint.store import Checkpoint, read_checkpoint, write_checkpoint
from bridge.devenv.api import DevEnv
from bridge.events import SourcePosition
from bridge.pipeline.runner import _has_offsets

pytestmark = pytest.mark.db
REPO = Path(__file__).resolve().parents[3]

PG_POSITION = SourcePosition(
    "creditchina", (16, 16, 0), False, {"lsn": "0/10", "commit_lsn": "0/10", "txid": 1}
)
MYSQL_POSITION = SourcePosition(
    "necips", (1, 4, 0, 0), False, {"file": "binlog.000001", "pos": 4, "row": 0}
)


def _store(engine: sa.Engine, pipeline: str, position: SourcePosition) -> Checkpoint:
    with engine.begin() as connection:
        write_checkpoint(connection, pipeline, position)
    with engine.connect() as connection:
        stored = read_checkpoint(connection, pipeline)
    assert stored is not None
    return stored


def _written(stored: Checkpoint) -> str:
    moment = stored.updated_at
    moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _ready_then_stopped(process: BridgeProcess) -> int:
    """Start *process*, wait until it is ready, stop it; its exit status."""
    process.start()
    try:
        process.wait_ready()
    finally:
        process.terminate()
    return process.wait_exit()


def _words(text: str) -> str:
    # rich wraps long lines at spaces: compare the words.
    return " ".join(text.split())


def test_a_moved_home_is_refused_and_snapshot_again_takes_the_snapshot(
    demo: DevEnv, pg: sa.Engine, mysql: sa.Engine, tmp_path: Path
) -> None:
    """Pins: a copied config re-snapshotting both sides without a word."""
    to_necips = _store(mysql, "xyzg-to-gsxt", PG_POSITION)
    to_credit_china = _store(pg, "gsxt-to-xyzg", MYSQL_POSITION)
    home = tmp_path / "moved-home"
    config, port = write_run_config(tmp_path, home)
    lines = config.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("home:")) + 1

    refused = BridgeProcess(config, port, tmp_path).start()

    assert refused.wait_exit() == 1
    advice = (
        "point home: at the state directory the bridge ran with before (a relative "
        f"path is relative to the config file's folder {tmp_path}), or start with "
        f"`creditbridge run --config {config} --snapshot-again` to take a new "
        "snapshot on purpose"
    )
    expected = [
        "FAILED: the bridge did not start; fix these problems and start again:",
        "pipeline xyzg-to-gsxt:",
        f"  {config}:{at}:1: home: no Debezium offsets for connector "
        f"credit-china-outcomes under {home} ({home}/offsets/"
        "credit-china-outcomes.dat does not exist), but the target necips already "
        "holds a checkpoint for pipeline xyzg-to-gsxt: creditchina commit_lsn=0/10 "
        f"lsn=0/10 txid=1, written {_written(to_necips)} UTC; starting now "
        "would take a new snapshot of the source",
        f"  {advice}",
        "pipeline gsxt-to-xyzg:",
        f"  {config}:{at}:1: home: no Debezium offsets for connector necips-outcomes "
        f"under {home} ({home}/offsets/necips-outcomes.dat does not exist), but the "
        "target credit_china already holds a checkpoint for pipeline gsxt-to-xyzg: "
        "necips file=binlog.000001 pos=4 row=0, written "
        f"{_written(to_credit_china)} UTC; starting now would take a new snapshot "
        "of the source",
        f"  {advice}",
    ]
    output = refused.output()
    assert _words(output[output.index("FAILED:") :]) == _words("\n".join(expected))
    assert not _has_offsets(home, "credit-china-outcomes")

    again = BridgeProcess(config, port, tmp_path, args=("--snapshot-again",))
    assert _ready_then_stopped(again) == 0

    assert "taking a new snapshot as asked (--snapshot-again)" in again.output()
    assert _has_offsets(home, "credit-china-outcomes")
    assert _has_offsets(home, "necips-outcomes")


def test_a_checkpoint_from_the_snapshot_alone_does_not_refuse_a_new_home(
    demo: DevEnv, pg: sa.Engine, mysql: sa.Engine, tmp_path: Path
) -> None:
    """A first run killed during its snapshot redoes the snapshot anyway."""
    _store(mysql, "xyzg-to-gsxt", replace(PG_POSITION, snapshot=True))
    _store(pg, "gsxt-to-xyzg", replace(MYSQL_POSITION, snapshot=True))
    config, port = write_run_config(tmp_path, tmp_path / "new-home")

    assert _ready_then_stopped(BridgeProcess(config, port, tmp_path)) == 0


def test_run_config_problems_are_listed_with_the_mapping_problems(
    dev_env: DevEnv, tmp_path: Path
) -> None:
    """Pins: a key typo reported alone, hiding the mapping error of the same run."""
    mapping = tmp_path / "broken.yaml"
    shipped = REPO / "mappings" / "gsxt_to_xyzg.yaml"
    mapping.write_text(
        shipped.read_text(encoding="utf-8").replace(
            "table: xyzg.xyxf_jg_gsxt", "table: xyzg.no_such_table"
        ),
        encoding="utf-8",
    )
    config, port = write_run_config(
        tmp_path, dev_env.home, mappings={"gsxt-to-xyzg": mapping}
    )
    text = config.read_text(encoding="utf-8").replace("http_port:", "http_pot:")
    config.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if "http_pot:" in line)
    at = f"{row + 1}:{lines[row].index('http_pot') + 1}"

    refused = BridgeProcess(config, port, tmp_path).start()

    assert refused.wait_exit() == 1
    output = refused.output()
    problems = output[output.index("FAILED:") :].splitlines()
    assert problems[1] == (
        f"{config}:{at}: observe.http_pot: unknown key 'http_pot' in observe; did "
        "you mean 'http_port'? (valid keys: http_host, http_port, max_lag_seconds, "
        "heartbeat_seconds, log_level)"
    )
    assert problems[2:4] == [
        "pipeline gsxt-to-xyzg:",
        f"  {mapping}:16:3: target.table: table xyzg.no_such_table does not exist in "
        "the live schema",
    ]


def test_lost_mysql_schema_history_is_refused_and_recovery_mode_rebuilds_it(
    demo: DevEnv, pg: sa.Engine, mysql: sa.Engine, tmp_path: Path
) -> None:
    """Pins: offsets without their schema history left Debezium's own words
    ("the db history topic ... is fully or partially missing") as the only advice."""
    home = tmp_path / "home"
    only = ("gsxt-to-xyzg",)
    config, port = write_run_config(tmp_path, home, pipelines=only)
    assert _ready_then_stopped(BridgeProcess(config, port, tmp_path)) == 0
    history = home / "history" / "necips-outcomes.dat"
    assert _has_offsets(home, "necips-outcomes") and history.stat().st_size > 0
    history.unlink()

    refused = BridgeProcess(config, port, tmp_path).start()

    assert refused.wait_exit() == 1
    lines = config.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("home:")) + 1
    shipped = REPO / "connectors" / "necips-outcomes.json"
    expected = [
        "FAILED: the bridge did not start; fix these problems and start again:",
        "pipeline gsxt-to-xyzg:",
        f"  {config}:{at}:1: home: the MySQL schema history of connector "
        f"necips-outcomes ({history} does not exist) is gone, but its offsets in "
        f"{home}/offsets/necips-outcomes.dat are there; Debezium cannot read the "
        "binlog on from them without the table schemas the history holds",
        "  copy the history file back from the state directory the bridge ran with "
        "before; or, if no captured table's columns changed since then, rebuild it "
        'from the current schemas: set "snapshot.mode": "recovery" in '
        f"{shipped} for one start, then set it back",
    ]
    output = refused.output()
    assert _words(output[output.index("FAILED:") :]) == _words("\n".join(expected))

    # The advice works: one start in recovery mode rebuilds the history and streams.
    recovering = tmp_path / "necips-outcomes.json"
    recovering.write_text(
        shipped.read_text(encoding="utf-8").replace(
            '"snapshot.mode": "initial"', '"snapshot.mode": "recovery"'
        ),
        encoding="utf-8",
    )
    config, port = write_run_config(
        tmp_path, home, pipelines=only, connectors={"gsxt-to-xyzg": recovering}
    )
    recovered = BridgeProcess(config, port, tmp_path).start()
    try:
        recovered.wait_ready()
        with mysql.begin() as connection:
            connection.execute(sa.text(INSERT_NECIPS_OUTCOME))
        _wait_for_staged(pg, "XF-GSXT-520000-20240902-0042", recovered)
    finally:
        recovered.terminate()
    assert recovered.wait_exit() == 0
    assert history.stat().st_size > 0


INSERT_NECIPS_OUTCOME = """
INSERT INTO gsxt.E_CR_REPAIR (REPAIRNO, UNISCID, ENTNAME, REPAIRTYPE, PENDECNO,
    PENDECNO_NORM, REPDATE, REPDECTIME, SRCSYS, S_EXT_NODENUM)
VALUES ('XF-GSXT-520000-20240902-0042', '92520102MA8H7LTP12',
    '贵阳市南明区李记粉面馆', 7, '南市监处［2024］35号', '南市监处〔2024〕35号',
    '2024-09-02 00:00:00', '2024-09-01 23:59:59.999999', '01', '520000')
"""


def _wait_for_staged(pg: sa.Engine, number: str, bridge: BridgeProcess) -> None:
    query = sa.text("SELECT count(*) FROM xyzg.xyxf_jg_gsxt WHERE xf_bh = :n")

    def staged() -> bool:
        with pg.connect() as connection:
            return connection.execute(query, {"n": number}).scalar_one() == 1

    wait_until(staged, f"{number} in xyzg.xyxf_jg_gsxt", 30.0, bridge)
