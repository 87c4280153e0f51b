"""Both registries as their own applications see them, through the admin accounts.

Writes are what each registry's application does (an outcome decided, a penalty
published); reads are what the demo watches (the display views, the staged rows the
bridge wrote, the dead-letter tables). Driver errors become :class:`DemoError` here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bridge.demo.errors import DemoError
from bridge.demo.scenario import (
    CREDIT_CHINA,
    NATURAL_PERSON,
    OutcomeStep,
    Penalty,
    Shown,
)
from bridge.devenv.generator import wan_yuan
from bridge.devenv.model import DevEnv

log = logging.getLogger(__name__)

_NINE_AM = timedelta(hours=9)  # NECIPS publishes at 09:00 local in the demo data


@dataclass(frozen=True)
class Staged:
    """An outcome the bridge wrote into the other registry's staging table."""

    number: str
    source_commit: datetime | None
    applied_at: datetime


@dataclass(frozen=True)
class DeadLetter:
    pipeline: str
    event_key: str
    message: str


@dataclass(frozen=True)
class Displayed:
    """Penalties on display, matched across registries on (USCC, folded number)."""

    credit_china: frozenset[tuple[str, str]]
    natural_persons: int  # on Credit China's display only; never on NECIPS
    necips: frozenset[tuple[str, str]]

    @property
    def agree(self) -> bool:
        return self.credit_china == self.necips

    @property
    def differing(self) -> int:
        return len(self.credit_china ^ self.necips)


_CC_OUTCOME = sa.text(
    "INSERT INTO xyzg.xyxf_jg (xf_bh, xdr_mc, xdr_lb, xdr_shxym, xdr_zjhm, cf_wsh_gf,"
    " xf_lx, jdfk_bz, xf_jdwh, xf_rq, xf_jdsj, xf_dw, xf_dwdm, zzgs_sj, sjly, dfbm)"
    " VALUES (:number, :name, :category, :uscc, :id_number, :folded, :kind,"
    " :lower_fine, :decision_number, :day, :decided, :unit, :unit_uscc, :stops,"
    " 'XYZG', :province)"
)
_NECIPS_OUTCOME = sa.text(
    "INSERT INTO gsxt.E_CR_REPAIR (REPAIRNO, UNISCID, ENTNAME, REPAIRTYPE, PENDECNO,"
    " PENDECNO_NORM, REPDECNO, REPDECORG_CN, REPDECORG_USCC, REPDATE, REPDECTIME,"
    " STOPPUBTIME, SRCSYS, S_EXT_NODENUM) VALUES (:number, :uscc, :name, :kind,"
    " :written, :folded, :decision_number, :unit, :unit_uscc, :day, :decided,"
    " :stops, '01', :province)"
)
_CC_PENALTY = sa.text(
    "INSERT INTO xyzg.xzcf_gs (id, cf_xdr_mc, cf_xdr_lb, cf_xdr_shxym, cf_xdr_zjhm,"
    " cf_wsh, cf_wsh_gf, cf_cflb, cf_nr_fk, cf_jdrq, cf_cfjg, cf_cfjgdm, dfbm, gs_zt,"
    " gxsj) VALUES (:id, :name, :category, :uscc, :id_number, :written, :folded,"
    " :kinds, :fine, :decided_on, :authority, :authority_uscc, :province, 1, now())"
)
_NECIPS_PENALTY = sa.text(
    "INSERT INTO gsxt.E_CASE_PUB (CASEID, UNISCID, ENTNAME, ENTCATG, PENDECNO,"
    " PENDECNO_NORM, PENTYPE, PENAM_FEN, PENDECISSDATE, PUBLICDATE, PENAUTH_CN,"
    " PENAUTH_USCC, LOWFINE_FLAG, PUBSTATE, S_EXT_NODENUM) VALUES (:case_id, :uscc,"
    " :name, :entcatg, :written, :folded, :kinds, :fine_fen, :decided_on,"
    " :published_on, :authority, :authority_uscc, :lower_fine, 'A', :province)"
)


class Registries:
    """Admin connections to both demo registries."""

    def __init__(self, env: DevEnv) -> None:
        self.credit_china = sa.create_engine(
            env.postgres.url("admin"), poolclass=sa.pool.NullPool
        )
        self.necips = sa.create_engine(
            env.mysql.url("admin"), poolclass=sa.pool.NullPool
        )

    def close(self) -> None:
        self.credit_china.dispose()
        self.necips.dispose()

    @contextmanager
    def _on(self, side: str, what: str) -> Iterator[sa.Connection]:
        """A transaction on *side*'s server; driver errors become :class:`DemoError`."""
        engine = self.credit_china if side == CREDIT_CHINA else self.necips
        try:
            with engine.begin() as connection:
                yield connection
        except sa.exc.DBAPIError as exc:
            where = engine.url.render_as_string(hide_password=True)
            raise DemoError(
                f"{what} on {where} failed: {exc.orig}; the demo stops here, "
                "run it again to start from a clean state"
            ) from exc

    # --- what the registries' applications do -----------------------------------

    def record_outcome(self, step: OutcomeStep) -> datetime:
        """INSERT *step*'s outcome into its registry's native table; the commit time."""
        if step.side == CREDIT_CHINA:
            statement, values = _CC_OUTCOME, _credit_china_outcome(step)
        else:
            statement, values = _NECIPS_OUTCOME, _necips_outcome(step)
        with self._on(step.side, f"recording outcome {step.number}") as connection:
            connection.execute(statement, values)
        return datetime.now(UTC)

    def publish(self, side: str, penalties: Sequence[Penalty]) -> datetime:
        """INSERT *penalties* into *side*'s penalty table, as published and shown."""
        rows = [
            _credit_china_penalty(p) if side == CREDIT_CHINA else _necips_penalty(p)
            for p in penalties
        ]
        statement = _CC_PENALTY if side == CREDIT_CHINA else _NECIPS_PENALTY
        if rows:
            with self._on(side, "publishing penalties") as connection:
                connection.execute(statement, rows)
        return datetime.now(UTC)

    # --- what the demo watches ----------------------------------------------------

    def shown(self, penalty: Penalty) -> tuple[Shown, Shown]:
        """The penalty's state in Credit China's and NECIPS' display views."""
        with self._on(CREDIT_CHINA, "reading xyzg.v_xzcf_display") as connection:
            row = connection.execute(
                sa.text(
                    "SELECT EXISTS (SELECT 1 FROM xyzg.xzcf_gs WHERE id = :id),"
                    " EXISTS (SELECT 1 FROM xyzg.v_xzcf_display WHERE id = :id)"
                ),
                {"id": penalty.row_id},
            ).one()
        credit_china = _state(bool(row[0]), bool(row[1]))
        if not penalty.on_necips:
            return credit_china, Shown.ABSENT
        with self._on("GSXT", "reading gsxt.V_CASE_DISPLAY") as connection:
            row = connection.execute(
                sa.text(
                    "SELECT (SELECT COUNT(*) FROM gsxt.E_CASE_PUB WHERE CASEID = :id),"
                    " (SELECT COUNT(*) FROM gsxt.V_CASE_DISPLAY WHERE CASEID = :id)"
                ),
                {"id": penalty.case_id},
            ).one()
        return credit_china, _state(bool(row[0]), bool(row[1]))

    def staged(self, step: OutcomeStep) -> Staged | None:
        """*step*'s outcome as the bridge staged it on the other registry, if it has."""
        if step.side == CREDIT_CHINA:
            side, query = "GSXT", (
                "SELECT CB_SRC_COMMIT_TS, CB_APPLIED_AT FROM gsxt.E_CR_REPAIR_XYZG"
                " WHERE REPAIRNO = :number"
            )
        else:
            side, query = CREDIT_CHINA, (
                "SELECT cb_src_commit_ts, cb_applied_at FROM xyzg.xyxf_jg_gsxt"
                " WHERE xf_bh = :number"
            )
        with self._on(side, f"reading the staged {step.number}") as connection:
            row = connection.execute(sa.text(query), {"number": step.number}).first()
        if row is None or row[1] is None:
            return None
        return Staged(step.number, _utc(row[0]), _utc_required(row[1]))

    def staged_counts(self) -> tuple[int, int]:
        """Rows staged on NECIPS (from Credit China) and on Credit China."""
        with self._on("GSXT", "counting gsxt.E_CR_REPAIR_XYZG") as connection:
            to_necips = connection.execute(
                sa.text("SELECT COUNT(*) FROM gsxt.E_CR_REPAIR_XYZG")
            ).scalar_one()
        with self._on(CREDIT_CHINA, "counting xyzg.xyxf_jg_gsxt") as connection:
            to_credit_china = connection.execute(
                sa.text("SELECT count(*) FROM xyzg.xyxf_jg_gsxt")
            ).scalar_one()
        return int(to_necips), int(to_credit_china)

    def slot_in_use(self, slot: str) -> int | None:
        """The server process streaming from *slot*, or None when nobody is."""
        with self._on(CREDIT_CHINA, "reading pg_replication_slots") as connection:
            pid = connection.execute(
                sa.text(
                    "SELECT active_pid FROM pg_replication_slots"
                    " WHERE slot_name = :slot"
                ),
                {"slot": slot},
            ).scalar()
        return None if pid is None else int(pid)

    def natural_person_outcomes(self) -> int:
        """Credit China's outcomes about natural persons: never to cross."""
        with self._on(CREDIT_CHINA, "counting xyzg.xyxf_jg") as connection:
            count = connection.execute(
                sa.text("SELECT count(*) FROM xyzg.xyxf_jg WHERE xdr_lb = :person"),
                {"person": NATURAL_PERSON},
            ).scalar_one()
        return int(count)

    def native_counts(self) -> tuple[int, int]:
        """Outcomes that should cross: Credit China's (natural persons stay) and
        NECIPS' own."""
        with self._on(CREDIT_CHINA, "counting xyzg.xyxf_jg") as connection:
            credit_china = connection.execute(
                sa.text("SELECT count(*) FROM xyzg.xyxf_jg WHERE xdr_lb <> :person"),
                {"person": NATURAL_PERSON},
            ).scalar_one()
        with self._on("GSXT", "counting gsxt.E_CR_REPAIR") as connection:
            necips = connection.execute(
                sa.text("SELECT COUNT(*) FROM gsxt.E_CR_REPAIR WHERE SRCSYS = '01'")
            ).scalar_one()
        return int(credit_china), int(necips)

    def dead_letters(self, pipelines: dict[str, str]) -> list[DeadLetter]:
        """Dead letters of each pipeline, read on its target (*pipelines*: name to
        side the staging table is on)."""
        letters: list[DeadLetter] = []
        for pipeline, side in pipelines.items():
            with self._on(side, "reading bridge.dead_letter") as connection:
                rows = connection.execute(
                    sa.text(
                        "SELECT event_key, message FROM bridge.dead_letter"
                        " WHERE pipeline = :pipeline ORDER BY id"
                    ),
                    {"pipeline": pipeline},
                ).all()
            letters += [DeadLetter(pipeline, str(r[0]), str(r[1])) for r in rows]
        return letters

    def displayed(self) -> Displayed:
        """Both display views, keyed for comparison."""
        with self._on(CREDIT_CHINA, "reading xyzg.v_xzcf_display") as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT cf_xdr_lb, cf_xdr_shxym, cf_wsh_gf FROM xyzg.v_xzcf_display"
                )
            ).all()
        with self._on("GSXT", "reading gsxt.V_CASE_DISPLAY") as connection:
            necips = connection.execute(
                sa.text("SELECT UNISCID, PENDECNO_NORM FROM gsxt.V_CASE_DISPLAY")
            ).all()
        persons = sum(1 for r in rows if r[0] == NATURAL_PERSON)
        return Displayed(
            credit_china=frozenset(
                (str(r[1]), str(r[2])) for r in rows if r[0] != NATURAL_PERSON
            ),
            natural_persons=persons,
            necips=frozenset((str(r[0]), str(r[1])) for r in necips),
        )


def _state(published: bool, shown: bool) -> Shown:
    if not published:
        return Shown.ABSENT
    return Shown.SHOWN if shown else Shown.HIDDEN


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_required(value: Any) -> datetime:
    moment = _utc(value)
    if moment is None:
        raise DemoError(f"a staged row has applied-at {value!r}, not a timestamp")
    return moment


def _credit_china_outcome(step: OutcomeStep) -> dict[str, Any]:
    penalty = step.penalty
    return {
        "number": step.number, "name": penalty.name, "category": penalty.category,
        "uscc": step.uscc, "id_number": penalty.id_number, "folded": penalty.folded,
        "kind": step.kind, "lower_fine": penalty.lower_fine,
        "decision_number": step.decision_number, "day": step.decided_local.date(),
        "decided": step.decided_utc, "unit": step.unit, "unit_uscc": step.unit_uscc,
        "stops": step.stops_utc, "province": penalty.province,
    }


def _necips_outcome(step: OutcomeStep) -> dict[str, Any]:
    penalty = step.penalty
    return {
        "number": step.number, "uscc": step.uscc, "name": penalty.name,
        "kind": int(step.kind), "written": penalty.written_necips,
        "folded": penalty.folded, "decision_number": step.decision_number,
        "unit": step.unit, "unit_uscc": step.unit_uscc,
        "day": datetime.combine(step.decided_local.date(), datetime.min.time()),
        "decided": step.decided_local, "stops": step.stops_local,
        "province": penalty.province,
    }


def _credit_china_penalty(penalty: Penalty) -> dict[str, Any]:
    return {
        "id": penalty.row_id, "name": penalty.name, "category": penalty.category,
        "uscc": penalty.uscc, "id_number": penalty.id_number,
        "written": penalty.written_cc, "folded": penalty.folded,
        "kinds": penalty.kinds_cc, "fine": wan_yuan(penalty.fine_fen),
        "decided_on": penalty.decided_on, "authority": penalty.authority,
        "authority_uscc": penalty.authority_uscc, "province": penalty.province,
    }


def _necips_penalty(penalty: Penalty) -> dict[str, Any]:
    published = datetime.combine(penalty.published_on, datetime.min.time())
    return {
        "case_id": penalty.case_id, "uscc": penalty.uscc, "name": penalty.name,
        "entcatg": penalty.entcatg, "written": penalty.written_necips,
        "folded": penalty.folded, "kinds": penalty.kinds_necips,
        "fine_fen": penalty.fine_fen,
        "decided_on": datetime.combine(penalty.decided_on, datetime.min.time()),
        "published_on": published + _NINE_AM,
        "authority": penalty.authority, "authority_uscc": penalty.authority_uscc,
        "lower_fine": int(penalty.lower_fine), "province": penalty.province,
    }
