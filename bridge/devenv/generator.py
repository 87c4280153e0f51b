"""Reproducible demo data for both registries: penalties and native outcomes.

``generate(seed, count)`` yields one :class:`Case` per penalty: the penalty as each
side publishes it and the outcomes each side decided for it. The same seed and count
always give the same rows. ``seed_both`` streams them into both servers in batches, so
memory stays flat from 10 up to 1,000,000 penalties.

What the data covers on purpose:

* every province code (31 plus the Corps' conventional 660000), in turn;
* decision numbers written with every bracket variant, full-width digits and stray
  spaces, differently on each side, all folding to the same matching form;
* fines in fen on NECIPS and in 万元 on Credit China, exactly equal (NULL and 0 too);
* display periods per side (Credit China from the decision date, NECIPS from the
  publication date; three months for lower fines, three years otherwise), with
  expiries recorded as outcomes where the period ended before :data:`AS_OF`;
* individual businesses (USCC ``92``) and farmers' cooperatives (``93``);
* natural persons, on Credit China only: flagged ``自然人``, no USCC, masked name,
  ID number kept in the native columns that never cross.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa

from bridge.devenv.identifiers import make_id_number, make_uscc
from bridge.devenv.model import DevEnv, Server
from bridge.errors import ConfigError
from bridge.map.codes import fold_decision_number
from bridge.map.timeconv import add_months

log = logging.getLogger(__name__)

MIN_COUNT: Final = 10
MAX_COUNT: Final = 1_000_000
BATCH: Final = 2000
AS_OF: Final = date(2025, 12, 1)  # "today" of the demo, fixed for reproducibility
BEIJING: Final = timedelta(hours=8)
LOWER_FINE_FEN: Final = 5_000_000  # 50,000 yuan
BELOW_ONLY: Final = frozenset({"520000", "350000"})  # Guizhou, Fujian: strictly below

PROVINCES: Final = {
    "110000": "京", "120000": "津", "130000": "冀", "140000": "晋", "150000": "蒙",
    "210000": "辽", "220000": "吉", "230000": "黑", "310000": "沪", "320000": "苏",
    "330000": "浙", "340000": "皖", "350000": "闽", "360000": "赣", "370000": "鲁",
    "410000": "豫", "420000": "鄂", "430000": "湘", "440000": "粤", "450000": "桂",
    "460000": "琼", "500000": "渝", "510000": "川", "520000": "贵", "530000": "云",
    "540000": "藏", "610000": "陕", "620000": "甘", "630000": "青", "640000": "宁",
    "650000": "新", "660000": "兵",
}
PROVINCE_CODES: Final = tuple(PROVINCES)

BRACKETS: Final = (("〔", "〕"), ("[", "]"), ("［", "］"), ("【", "】"), ("(", ")"),
                   ("（", "）"))
FULL_WIDTH: Final = str.maketrans("0123456789", "０１２３４５６７８９")
PLACES: Final = ("东城", "河西", "高新", "城南", "经开", "滨海", "新区", "江北")
WORDS: Final = ("禾青", "闽味", "瑞丰", "汇通", "恒达", "鑫源", "华宇", "锦程", "天和",
                "广利", "安泰", "康源")
TRADES: Final = ("餐饮管理", "食品", "建材", "商贸", "科技", "物流", "医药", "印务")
SURNAMES: Final = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴")
GIVEN: Final = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "勇", "军")

# Penalty kinds: Credit China text and NECIPS local code.
KINDS: Final = (("警告", "1"), ("罚款", "2"), ("没收违法所得", "3"),
                ("责令停产停业", "4"), ("暂扣许可证", "5"))

ORGANISATION = "法人及非法人组织"
INDIVIDUAL_BUSINESS = "个体工商户"
NATURAL_PERSON = "自然人"


@dataclass(frozen=True)
class Outcome:
    """One restoration outcome decided by one side, in neutral terms."""

    side: str  # "XYZG" or "GSXT": the deciding registry
    number: str
    xf_lx: str  # Credit China kind 01-05
    repairtype: int  # NECIPS kind 1-7
    decided_at: datetime  # aware UTC
    stops_at: datetime | None  # aware UTC
    decision_number: str
    unit: str
    unit_uscc: str


@dataclass(frozen=True)
class Case:
    """One penalty, as published on each side, and the outcomes decided for it."""

    index: int
    row_id: uuid.UUID
    category: str
    name: str
    uscc: str | None
    id_number: str | None
    province: str
    pg_decision_number: str
    mysql_decision_number: str
    folded: str
    kinds: tuple[tuple[str, str], ...]
    fine_fen: int | None
    lower_fine: bool
    decided_on: date
    published_on: date
    authority: str
    authority_uscc: str
    pg_state: int
    mysql_state: str
    outcomes: tuple[Outcome, ...] = field(default=())

    @property
    def crosses(self) -> bool:
        """Natural persons never leave Credit China."""
        return self.category != NATURAL_PERSON


def generate(seed: int, count: int) -> Iterator[Case]:
    """The demo penalties for *seed*, one at a time."""
    if not MIN_COUNT <= count <= MAX_COUNT:
        raise ConfigError(
            f"seed count {count} is outside {MIN_COUNT}..{MAX_COUNT}; nothing was "
            "generated"
        )
    rng = random.Random(seed)
    for index in range(count):
        yield _case(rng, index)


def _case(rng: random.Random, index: int) -> Case:
    province = PROVINCE_CODES[index % len(PROVINCE_CODES)]
    division = province[:2] + f"{rng.randint(1, 9):02d}{rng.randint(1, 9):02d}"
    category, name, uscc, id_number = _subject(rng, province, division)

    decided_on = date(2022, 7, 1) + timedelta(days=rng.randrange(1249))
    published_on = decided_on + timedelta(days=rng.randrange(29))
    kinds = _kinds(rng)
    fine_fen = _fine(rng, kinds)
    lower_fine = fine_fen is not None and (
        fine_fen < LOWER_FINE_FEN if province in BELOW_ONLY
        else fine_fen <= LOWER_FINE_FEN)

    pg_number, mysql_number, folded = _decision_numbers(rng, province, decided_on,
                                                        index)
    authority = f"{PROVINCES[province]}{rng.choice(PLACES)}市场监督管理局"
    case = Case(
        index=index, row_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        category=category, name=name, uscc=uscc, id_number=id_number,
        province=province, pg_decision_number=pg_number,
        mysql_decision_number=mysql_number, folded=folded, kinds=kinds,
        fine_fen=fine_fen, lower_fine=lower_fine, decided_on=decided_on,
        published_on=published_on, authority=authority,
        authority_uscc=make_uscc(rng, "11", division),
        pg_state=0 if kinds == (KINDS[0],) else 1,
        mysql_state="N" if kinds == (KINDS[0],) else "A",
    )
    return _with_outcomes(rng, case)


def _subject(rng: random.Random, province: str, division: str
             ) -> tuple[str, str, str | None, str | None]:
    roll = rng.random()
    place = PROVINCES[province] + rng.choice(PLACES)
    if roll < 0.10:
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(15000))
        return (NATURAL_PERSON, f"{surname}*{given}", None,
                make_id_number(rng, division, born))
    if roll < 0.25:
        name = f"{place}区{rng.choice(SURNAMES)}记{rng.choice(('粉面馆', '小吃店'))}"
        return INDIVIDUAL_BUSINESS, name, make_uscc(rng, "92", division), None
    if roll < 0.30:
        name = f"{place}{rng.choice(WORDS)}种植专业合作社"
        return ORGANISATION, name, make_uscc(rng, "93", division), None
    name = f"{place}{rng.choice(WORDS)}{rng.choice(TRADES)}有限公司"
    return ORGANISATION, name, make_uscc(rng, "91", division), None


def _kinds(rng: random.Random) -> tuple[tuple[str, str], ...]:
    if rng.random() < 0.05:
        return (KINDS[0],)
    extra = [kind for kind in KINDS[2:] if rng.random() < 0.15]
    return (KINDS[1], *extra)


def _fine(rng: random.Random, kinds: Sequence[tuple[str, str]]) -> int | None:
    if KINDS[1] not in kinds:
        return None
    roll = rng.random()
    if roll < 0.03:
        return 0
    if roll < 0.08:
        return LOWER_FINE_FEN  # exactly 50,000 yuan: the province boundary case
    if roll < 0.60:
        return rng.randrange(100, LOWER_FINE_FEN)
    return rng.randrange(LOWER_FINE_FEN + 1, 500_000_000)


def _decision_numbers(rng: random.Random, province: str, decided_on: date,
                      index: int) -> tuple[str, str, str]:
    prefix = f"{PROVINCES[province]}{rng.choice(PLACES)}市监处"
    written = [_write_number(rng, prefix, decided_on.year, index + 1)
               for _ in range(2)]
    return written[0], written[1], fold_decision_number(written[0])


def _write_number(rng: random.Random, prefix: str, year: int, serial: int) -> str:
    opening, closing = rng.choice(BRACKETS)
    year_text = str(year)
    if rng.random() < 0.1:
        year_text = year_text.translate(FULL_WIDTH)
    space = " " if rng.random() < 0.1 else ""
    return f"{prefix}{space}{opening}{year_text}{closing}{serial}号"


def _with_outcomes(rng: random.Random, case: Case) -> Case:
    outcomes: list[Outcome] = []
    pg_state, mysql_state = case.pg_state, case.mysql_state
    if pg_state == 1 and _expired(case, "XYZG"):
        outcomes.append(_expiry(case, "XYZG", len(outcomes)))
        pg_state = 3
    if case.crosses and mysql_state == "A" and _expired(case, "GSXT"):
        outcomes.append(_expiry(case, "GSXT", len(outcomes)))
        mysql_state = "E"

    if pg_state == 1 and mysql_state in ("A", "N") and rng.random() < 0.25:
        side = "XYZG" if not case.crosses or rng.random() < 0.5 else "GSXT"
        restoration = _restoration(rng, case, side, len(outcomes))
        outcomes.append(restoration)
        if rng.random() < 0.12:
            number = _outcome_number(case, side, case.decided_on, len(outcomes))
            outcomes.append(_withdrawal(rng, side, restoration, number))
        elif side == "XYZG":
            pg_state = 2
        else:
            mysql_state = "S"

    return Case(**{**case.__dict__, "pg_state": pg_state,
                   "mysql_state": mysql_state, "outcomes": tuple(outcomes)})


def _period_end(case: Case, side: str) -> date:
    months = 3 if case.lower_fine else 36
    start = case.decided_on if side == "XYZG" else case.published_on
    return add_months(start, months)


def _expired(case: Case, side: str) -> bool:
    return _period_end(case, side) <= AS_OF


def _local_instant(day: date, hour: int, minute: int) -> datetime:
    """Beijing wall-clock *day* *hour*:*minute* as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - BEIJING


def _outcome_number(case: Case, side: str, day: date, ordinal: int) -> str:
    """Unique by construction: the penalty's index and the outcome's ordinal."""
    return f"XF-{side}-{case.province}-{day:%Y%m%d}-{case.index + 1:07d}{ordinal}"


def _expiry(case: Case, side: str, ordinal: int) -> Outcome:
    ends = _period_end(case, side)
    stops = _local_instant(ends, 0, 0)
    return Outcome(
        side=side, number=_outcome_number(case, side, ends, ordinal), xf_lx="04",
        repairtype=5 if case.lower_fine else 6, decided_at=stops, stops_at=stops,
        decision_number="", unit=case.authority, unit_uscc=case.authority_uscc,
    )


def _restoration(rng: random.Random, case: Case, side: str, ordinal: int
                 ) -> Outcome:
    start = max(case.published_on, date(2024, 1, 1))
    day = start + timedelta(days=rng.randrange(max(1, (AS_OF - start).days)))
    decided = _local_instant(day, rng.randint(9, 17), rng.randrange(60))
    unit, unit_uscc = _deciding_unit(rng, case, side)
    serial = rng.randint(1, 999)
    return Outcome(
        side=side, number=_outcome_number(case, side, day, ordinal), xf_lx="01",
        repairtype=4, decided_at=decided, stops_at=decided,
        decision_number=f"{PROVINCES[case.province]}信修〔{day.year}〕{serial}号",
        unit=unit, unit_uscc=unit_uscc,
    )


def _deciding_unit(rng: random.Random, case: Case, side: str) -> tuple[str, str]:
    if side == "GSXT":
        return case.authority, case.authority_uscc
    division = case.province
    return (f"{PROVINCES[case.province]}公共信用信息中心",
            make_uscc(rng, "12", division))


def _withdrawal(rng: random.Random, side: str, restoration: Outcome,
                number: str) -> Outcome:
    decided = restoration.decided_at + timedelta(days=rng.randint(1, 40),
                                                 minutes=rng.randrange(600))
    return Outcome(
        side=side, number=number, xf_lx="05",
        repairtype=7, decided_at=decided, stops_at=None,
        decision_number=restoration.decision_number.replace("信修", "撤修"),
        unit=restoration.unit, unit_uscc=restoration.unit_uscc,
    )


# --- writing -----------------------------------------------------------------------

PG_PENALTY: Final = (
    "xyzg.xzcf_gs", ("id", "cf_xdr_mc", "cf_xdr_lb", "cf_xdr_shxym", "cf_xdr_zjhm",
                     "cf_wsh", "cf_wsh_gf", "cf_cflb", "cf_nr_fk", "cf_jdrq", "cf_cfjg",
                     "cf_cfjgdm", "dfbm", "gs_zt", "gxsj"))
PG_OUTCOME: Final = (
    "xyzg.xyxf_jg", ("xf_bh", "xdr_mc", "xdr_lb", "xdr_shxym", "xdr_zjhm", "cf_wsh_gf",
                     "xf_lx", "jdfk_bz", "xf_jdwh", "xf_rq", "xf_jdsj", "xf_dw",
                     "xf_dwdm", "zzgs_sj", "sjly", "dfbm", "gxsj"))
MYSQL_PENALTY: Final = (
    "gsxt.E_CASE_PUB", ("CASEID", "UNISCID", "ENTNAME", "ENTCATG", "PENDECNO",
                        "PENDECNO_NORM", "PENTYPE", "PENAM_FEN", "PENDECISSDATE",
                        "PUBLICDATE", "PENAUTH_CN", "PENAUTH_USCC", "LOWFINE_FLAG",
                        "PUBSTATE", "S_EXT_NODENUM"))
MYSQL_OUTCOME: Final = (
    "gsxt.E_CR_REPAIR", ("REPAIRNO", "UNISCID", "ENTNAME", "REPAIRTYPE", "PENDECNO",
                         "PENDECNO_NORM", "REPDECNO", "REPDECORG_CN", "REPDECORG_USCC",
                         "REPDATE", "REPDECTIME", "STOPPUBTIME", "SRCSYS",
                         "S_EXT_NODENUM"))
TABLES: Final = (PG_PENALTY, PG_OUTCOME, MYSQL_PENALTY, MYSQL_OUTCOME)

Row = tuple[Any, ...]
Progress = Callable[[str, int], None]


def wan_yuan(fen: int | None) -> Decimal | None:
    """Fen to 万元 with 6 decimals, exactly: 1 万元 is 1,000,000 fen."""
    if fen is None:
        return None
    return (Decimal(fen) / Decimal(1_000_000)).quantize(Decimal("0.000001"))


def beijing(instant: datetime | None) -> datetime | None:
    """An aware UTC instant as a naive Beijing wall-clock datetime (NECIPS style)."""
    if instant is None:
        return None
    return (instant.astimezone(UTC) + BEIJING).replace(tzinfo=None)


def pg_penalty_row(case: Case) -> Row:
    updated = _local_instant(case.published_on, 8, 30)
    return (case.row_id, case.name, case.category, case.uscc, case.id_number,
            case.pg_decision_number, case.folded, ";".join(k[0] for k in case.kinds),
            wan_yuan(case.fine_fen), case.decided_on, case.authority,
            case.authority_uscc, case.province, case.pg_state, updated)


def pg_outcome_row(case: Case, outcome: Outcome) -> Row:
    local_day = (outcome.decided_at + BEIJING).date()
    return (outcome.number, case.name, case.category, case.uscc, case.id_number,
            case.folded, outcome.xf_lx, case.lower_fine,
            outcome.decision_number or None, local_day, outcome.decided_at,
            outcome.unit, outcome.unit_uscc, outcome.stops_at, "XYZG", case.province,
            outcome.decided_at)


def mysql_penalty_row(case: Case) -> Row:
    category = {"92": 2, "93": 3}.get((case.uscc or "")[:2], 1)
    decided = datetime.combine(case.decided_on, time())
    published = datetime.combine(case.published_on, time(9, 0))
    case_id = f"CASE-{case.province}-{case.index + 1:07d}"
    return (case_id, case.uscc, case.name, category, case.mysql_decision_number,
            case.folded, ",".join(k[1] for k in case.kinds), case.fine_fen, decided,
            published, case.authority, case.authority_uscc, int(case.lower_fine),
            case.mysql_state, case.province)


def mysql_outcome_row(case: Case, outcome: Outcome) -> Row:
    decided_local = beijing(outcome.decided_at)
    assert decided_local is not None
    day = datetime.combine(decided_local.date(), time())
    return (outcome.number, case.uscc, case.name, outcome.repairtype,
            case.mysql_decision_number, case.folded, outcome.decision_number or None,
            outcome.unit, outcome.unit_uscc, day, decided_local,
            beijing(outcome.stops_at), "01", case.province)


def rows_of(case: Case) -> Iterator[tuple[tuple[str, tuple[str, ...]], Row]]:
    """(table, row) pairs for one case, each side getting only what it publishes."""
    yield PG_PENALTY, pg_penalty_row(case)
    if case.crosses:
        yield MYSQL_PENALTY, mysql_penalty_row(case)
    for outcome in case.outcomes:
        if outcome.side == "XYZG":
            yield PG_OUTCOME, pg_outcome_row(case, outcome)
        else:
            yield MYSQL_OUTCOME, mysql_outcome_row(case, outcome)


@dataclass
class SeedReport:
    """How many rows ``seed_both`` wrote per table."""

    seed: int
    count: int
    rows: dict[str, int]

    def summary(self) -> str:
        tables = ", ".join(f"{name} {rows}" for name, rows in self.rows.items())
        return f"seed {self.seed}, {self.count} penalties: {tables}"


def seed_both(env: DevEnv, *, seed: int, count: int,
              progress: Progress | None = None) -> SeedReport:
    """Replace the penalties and native outcomes on both sides with generated ones.

    Staging and bridge tables are left alone. Rows are written in batches of
    :data:`BATCH`, each committed, so neither side holds a huge transaction.
    """
    cases = generate(seed, count)  # validates count before anything is truncated
    pg = _raw_connection(env.postgres)
    my = _raw_connection(env.mysql)
    try:
        _truncate(pg, my)
        writer = _BatchWriter(pg, my, progress)
        for case in cases:
            for table, row in rows_of(case):
                writer.add(table, row)
        writer.flush_all()
    finally:
        pg.close()
        my.close()
    log.info("seeded %s penalties from seed %s: %s", count, seed, writer.written)
    return SeedReport(seed=seed, count=count, rows=dict(writer.written))


def _raw_connection(server: Server) -> Any:
    engine = sa.create_engine(server.url("admin"), poolclass=sa.pool.NullPool)
    return engine.raw_connection()


def _truncate(pg: Any, my: Any) -> None:
    with pg.cursor() as cursor:
        cursor.execute("TRUNCATE xyzg.xzcf_gs, xyzg.xyxf_jg")
    pg.commit()
    with my.cursor() as cursor:
        cursor.execute("TRUNCATE TABLE gsxt.E_CASE_PUB")
        cursor.execute("TRUNCATE TABLE gsxt.E_CR_REPAIR")
    my.commit()


class _BatchWriter:
    """Buffers rows per table; writes and commits a table's buffer when it is full."""

    def __init__(self, pg: Any, my: Any, progress: Progress | None) -> None:
        self._pg, self._my, self._progress = pg, my, progress
        self._buffers: dict[str, list[Row]] = {name: [] for name, _ in TABLES}
        self.written: dict[str, int] = {name: 0 for name, _ in TABLES}

    def add(self, table: tuple[str, tuple[str, ...]], row: Row) -> None:
        buffer = self._buffers[table[0]]
        buffer.append(row)
        if len(buffer) >= BATCH:
            self._flush(table)

    def flush_all(self) -> None:
        for table in TABLES:
            self._flush(table)
            if self._progress is not None:
                self._progress(table[0], self.written[table[0]])

    def _flush(self, table: tuple[str, tuple[str, ...]]) -> None:
        name, columns = table
        rows = self._buffers[name]
        if not rows:
            return
        if name.startswith("xyzg."):
            self._copy_postgres(name, columns, rows)
        else:
            self._insert_mysql(name, columns, rows)
        self.written[name] += len(rows)
        rows.clear()

    def _copy_postgres(self, name: str, columns: tuple[str, ...],
                       rows: list[Row]) -> None:
        statement = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
        with self._pg.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        self._pg.commit()

    def _insert_mysql(self, name: str, columns: tuple[str, ...],
                      rows: list[Row]) -> None:
        marks = ", ".join(["%s"] * len(columns))
        statement = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"
        with self._my.cursor() as cursor:
            cursor.executemany(statement, rows)
        self._my.commit()
