"""The demo's scripted day, as data: the penalties it touches and each registry's acts.

Every value is literal so that the demo, its tests and a reader checking DOMAIN.md
section 5 see the same rows. The three worked rows of that section appear here with
their exact values (outcomes ``XF-GSXT-310000-20240615-0001``,
``XF-GSXT-350000-20250210-0003`` and ``XF-GSXT-520000-20240902-0042``).

NECIPS times are Beijing wall-clock times (naive), as its application writes them;
Credit China's instants are derived from them (UTC = local - 8 h).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

CREDIT_CHINA: Final = "XYZG"
NECIPS: Final = "GSXT"
REGISTRY_NAMES: Final = {CREDIT_CHINA: "Credit China", NECIPS: "NECIPS"}
BEIJING_OFFSET: Final = timedelta(hours=8)

ORGANISATION: Final = "法人及非法人组织"
INDIVIDUAL_BUSINESS: Final = "个体工商户"
NATURAL_PERSON: Final = "自然人"


class Shown(enum.Enum):
    """A penalty's state in one registry's display view."""

    SHOWN = "shown"
    HIDDEN = "hidden"  # published, but a restoration or expiry hides it
    ABSENT = "absent"  # not published on this registry (yet, or never)


class Expect(enum.Enum):
    """What the bridge should do with one step's row."""

    CROSSES = "crosses"  # staged on the other registry
    DEAD_LETTER = "dead letter"  # rejected into the other side's dead-letter table
    FILTERED = "filtered"  # never sent (privacy rule)
    PUBLISHED = "published"  # a penalty, not an outcome: nothing crosses


@dataclass(frozen=True)
class Penalty:
    """One penalty as both registries publish it (a natural person's: Credit China's
    only)."""

    label: str
    row_id: uuid.UUID  # Credit China xzcf_gs.id
    case_id: str  # NECIPS E_CASE_PUB.CASEID
    name: str
    category: str
    uscc: str | None
    id_number: str | None
    province: str
    written_cc: str  # decision number as Credit China wrote it
    written_necips: str  # ... and as NECIPS wrote it
    folded: str
    kinds_cc: str
    kinds_necips: str
    fine_fen: int | None
    lower_fine: bool
    decided_on: date
    published_on: date
    authority: str
    authority_uscc: str
    published_on_cc_at_start: bool = True

    @property
    def on_necips(self) -> bool:
        return self.category != NATURAL_PERSON

    @property
    def entcatg(self) -> int:
        return 2 if self.category == INDIVIDUAL_BUSINESS else 1


@dataclass(frozen=True)
class OutcomeStep:
    """A registry decides a restoration outcome: one INSERT into its native table."""

    side: str
    number: str
    penalty: Penalty
    kind: str  # Credit China xf_lx, or NECIPS REPAIRTYPE as text
    decided_local: datetime  # Beijing wall clock
    stops_local: datetime | None
    decision_number: str | None
    unit: str
    unit_uscc: str
    says: str
    expect: Expect
    after: tuple[Shown, Shown]  # Credit China, NECIPS once the step has settled
    uscc_written: str | None = None  # a mistyped code, when the registry mistyped it

    @property
    def uscc(self) -> str | None:
        return self.uscc_written or self.penalty.uscc

    @property
    def decided_utc(self) -> datetime:
        return (self.decided_local - BEIJING_OFFSET).replace(tzinfo=UTC)

    @property
    def stops_utc(self) -> datetime | None:
        if self.stops_local is None:
            return None
        return (self.stops_local - BEIJING_OFFSET).replace(tzinfo=UTC)

    @property
    def label(self) -> str:
        return self.number


@dataclass(frozen=True)
class PublishStep:
    """Credit China publishes a penalty NECIPS published earlier."""

    side: str
    penalty: Penalty
    says: str
    after: tuple[Shown, Shown]
    expect: Expect = Expect.PUBLISHED

    @property
    def label(self) -> str:
        return f"penalty {self.penalty.folded}"


Step = OutcomeStep | PublishStep

# --- the penalties --------------------------------------------------------------

HEQING = Penalty(
    label="heqing", row_id=uuid.UUID("5d1c8a6e-0001-4d00-8000-00000000c001"),
    case_id="CASE-310000-DEMO001", name="上海禾青餐饮管理有限公司",
    category=ORGANISATION, uscc="91310115MAF5PJ963C", id_number=None,
    province="310000", written_cc="沪浦市监处〔2024〕123号",
    written_necips="沪浦市监处[2024]123号", folded="沪浦市监处〔2024〕123号",
    kinds_cc="罚款", kinds_necips="2", fine_fen=2_000_000, lower_fine=True,
    decided_on=date(2024, 3, 14), published_on=date(2024, 3, 15),
    authority="上海市浦东新区市场监督管理局", authority_uscc="11310115MA1HRPQX2A",
)
MINWEI = Penalty(
    label="minwei", row_id=uuid.UUID("5d1c8a6e-0002-4d00-8000-00000000c002"),
    case_id="CASE-350000-DEMO002", name="福州闽味食品有限公司",
    category=ORGANISATION, uscc="91350102MAWPDQNQ9X", id_number=None,
    province="350000", written_cc="榕鼓市监处〔2024〕517号",
    written_necips="榕鼓市监处【2024】517号", folded="榕鼓市监处〔2024〕517号",
    kinds_cc="罚款;没收违法所得", kinds_necips="2,3", fine_fen=12_000_000,
    lower_fine=False, decided_on=date(2024, 9, 20), published_on=date(2024, 9, 27),
    authority="福州市鼓楼区市场监督管理局", authority_uscc="11350102003512734K",
)
LIJI = Penalty(
    label="liji", row_id=uuid.UUID("5d1c8a6e-0003-4d00-8000-00000000c003"),
    case_id="CASE-520000-DEMO003", name="贵阳市南明区李记粉面馆",
    category=INDIVIDUAL_BUSINESS, uscc="92520102MA8H7LTP12", id_number=None,
    province="520000", written_cc="南市监处(2024)35号",
    written_necips="南市监处［2024］35号", folded="南市监处〔2024〕35号",
    kinds_cc="罚款", kinds_necips="2", fine_fen=300_000, lower_fine=True,
    decided_on=date(2024, 5, 6), published_on=date(2024, 5, 13),
    authority="贵阳市南明区市场监督管理局", authority_uscc="11520102MA6H1Q0L7B",
)
HUATAI = Penalty(
    label="huatai", row_id=uuid.UUID("5d1c8a6e-0004-4d00-8000-00000000c004"),
    case_id="CASE-440000-DEMO004", name="深圳市华泰物流有限公司",
    category=ORGANISATION, uscc="91440300MA5GT2LK8F", id_number=None,
    province="440000", written_cc="粤深市监处〔2025〕88号",
    written_necips="粤深市监处（２０２５）88号", folded="粤深市监处〔2025〕88号",
    kinds_cc="罚款", kinds_necips="2", fine_fen=8_000_000, lower_fine=False,
    decided_on=date(2025, 11, 3), published_on=date(2025, 11, 10),
    authority="深圳市市场监督管理局", authority_uscc="11440300007542836F",
    published_on_cc_at_start=False,
)
RUIFENG = Penalty(
    label="ruifeng", row_id=uuid.UUID("5d1c8a6e-0005-4d00-8000-00000000c005"),
    case_id="CASE-330000-DEMO005", name="杭州瑞丰科技有限公司",
    category=ORGANISATION, uscc="91330106MA2KD7QX5D", id_number=None,
    province="330000", written_cc="浙杭西市监处〔2025〕214号",
    written_necips="浙杭西市监处[2025]214号", folded="浙杭西市监处〔2025〕214号",
    kinds_cc="罚款", kinds_necips="2", fine_fen=9_500_000, lower_fine=False,
    decided_on=date(2025, 4, 8), published_on=date(2025, 4, 15),
    authority="杭州市西湖区市场监督管理局", authority_uscc="11330000002482099L",
)
HUITONG = Penalty(
    label="huitong", row_id=uuid.UUID("5d1c8a6e-0006-4d00-8000-00000000c006"),
    case_id="CASE-320000-DEMO006", name="苏州汇通商贸有限公司",
    category=ORGANISATION, uscc="91320506MA1W8RT3X5", id_number=None,
    province="320000", written_cc="苏苏吴市监处〔2025〕61号",
    written_necips="苏苏吴市监处〔2025〕61号", folded="苏苏吴市监处〔2025〕61号",
    kinds_cc="罚款", kinds_necips="2", fine_fen=1_500_000, lower_fine=True,
    decided_on=date(2025, 9, 1), published_on=date(2025, 9, 5),
    authority="苏州市吴中区市场监督管理局", authority_uscc="12320000466003512D",
)
HENGDA = Penalty(
    label="hengda", row_id=uuid.UUID("5d1c8a6e-0007-4d00-8000-00000000c007"),
    case_id="CASE-420000-DEMO007", name="武汉恒达建材有限公司",
    category=ORGANISATION, uscc="91420106MA4K3WQN26", id_number=None,
    province="420000", written_cc="鄂武昌市监处〔2022〕19号",
    written_necips="鄂武昌市监处(2022)19号", folded="鄂武昌市监处〔2022〕19号",
    kinds_cc="罚款;责令停产停业", kinds_necips="2,4", fine_fen=30_000_000,
    lower_fine=False, decided_on=date(2022, 12, 1), published_on=date(2022, 12, 8),
    authority="武汉市武昌区市场监督管理局", authority_uscc="12310000425011220X",
)
JINCHENG = Penalty(
    label="jincheng", row_id=uuid.UUID("5d1c8a6e-0008-4d00-8000-00000000c008"),
    case_id="CASE-110000-DEMO008", name="北京锦程印务有限公司",
    category=ORGANISATION, uscc="91110108MAKFGU0C4E", id_number=None,
    province="110000", written_cc="京海市监处〔2025〕402号",
    written_necips="京海市监处[2025]402号", folded="京海市监处〔2025〕402号",
    kinds_cc="罚款", kinds_necips="2", fine_fen=6_000_000, lower_fine=False,
    decided_on=date(2025, 6, 18), published_on=date(2025, 6, 25),
    authority="北京市海淀区市场监督管理局", authority_uscc="11110108000063276Q",
)
PERSON = Penalty(
    label="person", row_id=uuid.UUID("5d1c8a6e-0009-4d00-8000-00000000c009"),
    case_id="", name="王*伟", category=NATURAL_PERSON, uscc=None,
    id_number="52010219880612312X", province="520000",
    written_cc="筑云市监处〔2025〕7号", written_necips="",
    folded="筑云市监处〔2025〕7号", kinds_cc="罚款", kinds_necips="",
    fine_fen=200_000, lower_fine=True, decided_on=date(2025, 10, 9),
    published_on=date(2025, 10, 9), authority="贵阳市云岩区市场监督管理局",
    authority_uscc="11520102MA6H1Q0L7B",
)

PENALTIES: Final = (HEQING, MINWEI, LIJI, HUATAI, RUIFENG, HUITONG, HENGDA, JINCHENG,
                    PERSON)

# --- the day ----------------------------------------------------------------------

_S, _H, _A = Shown.SHOWN, Shown.HIDDEN, Shown.ABSENT
_CC_CENTRE = ("浙江省公共信用信息中心", "12330000MB0T4R6N11")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)


DAY: Final = date(2025, 12, 1)

STEPS: Final[tuple[Step, ...]] = (
    OutcomeStep(
        side=NECIPS, number="XF-GSXT-310000-20240615-0001", penalty=HEQING, kind="5",
        decided_local=_at(date(2024, 6, 15), 0), stops_local=_at(date(2024, 6, 15), 0),
        decision_number=None, unit=HEQING.authority, unit_uscc=HEQING.authority_uscc,
        says="NECIPS: the lower fine of 上海禾青餐饮 expired (REPAIRTYPE 5)",
        expect=Expect.CROSSES, after=(_H, _H),
    ),
    OutcomeStep(
        side=CREDIT_CHINA, number="XF-XYZG-330000-20251201-0001", penalty=RUIFENG,
        kind="01", decided_local=_at(DAY, 9, 12), stops_local=_at(DAY, 9, 12),
        decision_number="浙信修〔2025〕1187号", unit=_CC_CENTRE[0],
        unit_uscc=_CC_CENTRE[1],
        says="Credit China: early stop of display for 杭州瑞丰科技 (xf_lx 01)",
        expect=Expect.CROSSES, after=(_H, _H),
    ),
    OutcomeStep(
        side=NECIPS, number="XF-GSXT-350000-20250210-0003", penalty=MINWEI, kind="4",
        decided_local=_at(date(2025, 2, 10), 10, 30),
        stops_local=_at(date(2025, 2, 10), 10, 30),
        decision_number="榕鼓市监信修〔2025〕3号", unit=MINWEI.authority,
        unit_uscc=MINWEI.authority_uscc,
        says="NECIPS: early stop on application for 福州闽味食品 (REPAIRTYPE 4)",
        expect=Expect.CROSSES, after=(_H, _H),
    ),
    OutcomeStep(
        side=CREDIT_CHINA, number="XF-XYZG-320000-20251201-0002", penalty=HUITONG,
        kind="04", decided_local=_at(DAY, 0), stops_local=_at(DAY, 0),
        decision_number=None, unit=HUITONG.authority,
        unit_uscc=HUITONG.authority_uscc,
        says="Credit China: the lower fine of 苏州汇通商贸 expired (xf_lx 04)",
        expect=Expect.CROSSES, after=(_H, _H),
    ),
    OutcomeStep(
        side=NECIPS, number="XF-GSXT-520000-20240815-0031", penalty=LIJI, kind="4",
        decided_local=_at(date(2024, 8, 15), 10),
        stops_local=_at(date(2024, 8, 15), 10),
        decision_number="南市监信修〔2024〕31号", unit=LIJI.authority,
        unit_uscc=LIJI.authority_uscc,
        says="NECIPS: early stop for 贵阳市南明区李记粉面馆 (REPAIRTYPE 4)",
        expect=Expect.CROSSES, after=(_H, _H),
    ),
    OutcomeStep(
        side=CREDIT_CHINA, number="XF-XYZG-420000-20251201-0003", penalty=HENGDA,
        kind="04", decided_local=_at(DAY, 0), stops_local=_at(DAY, 0),
        decision_number=None, unit=HENGDA.authority, unit_uscc=HENGDA.authority_uscc,
        says="Credit China: 3-year display of 武汉恒达建材 ended (xf_lx 04)",
        expect=Expect.CROSSES, after=(_H, _H),
    ),
    OutcomeStep(
        side=NECIPS, number="XF-GSXT-520000-20240902-0042", penalty=LIJI, kind="7",
        decided_local=_at(date(2024, 9, 2), 15), stops_local=None,
        decision_number="南市监撤修〔2024〕42号", unit=LIJI.authority,
        unit_uscc=LIJI.authority_uscc,
        says="NECIPS: withdraws the restoration of 李记粉面馆 (REPAIRTYPE 7)",
        expect=Expect.CROSSES, after=(_S, _S),
    ),
    OutcomeStep(
        side=NECIPS, number="XF-GSXT-440000-20251201-0088", penalty=HUATAI, kind="4",
        decided_local=_at(DAY, 11, 5), stops_local=_at(DAY, 11, 5),
        decision_number="粤深市监信修〔2025〕88号", unit=HUATAI.authority,
        unit_uscc=HUATAI.authority_uscc,
        says="NECIPS: early stop for 华泰物流, before Credit China publishes",
        expect=Expect.CROSSES, after=(_A, _H),
    ),
    OutcomeStep(
        side=CREDIT_CHINA, number="XF-XYZG-110000-20251201-0004", penalty=JINCHENG,
        kind="01", decided_local=_at(DAY, 14, 20), stops_local=_at(DAY, 14, 20),
        decision_number="京信修〔2025〕902号", unit=JINCHENG.authority,
        unit_uscc=JINCHENG.authority_uscc,
        says="Credit China: early stop for 北京锦程印务, USCC mistyped as …0C4F",
        expect=Expect.DEAD_LETTER, after=(_S, _S), uscc_written="91110108MAKFGU0C4F",
    ),
    OutcomeStep(
        side=CREDIT_CHINA, number="XF-XYZG-520000-20251201-0005", penalty=PERSON,
        kind="01", decided_local=_at(DAY, 15, 40), stops_local=_at(DAY, 15, 40),
        decision_number="黔信修〔2025〕77号", unit=PERSON.authority,
        unit_uscc=PERSON.authority_uscc,
        says="Credit China: early stop for a natural person, 王*伟 (xf_lx 01)",
        expect=Expect.FILTERED, after=(_H, _A),
    ),
    PublishStep(
        side=CREDIT_CHINA, penalty=HUATAI,
        says="Credit China: publishes penalty 粤深市监处〔2025〕88号 of 华泰物流",
        after=(_H, _H),
    ),
)

DEAD_LETTER_REASON: Final = (
    "USCC '91110108MAKFGU0C4F' has check character 'F', but positions 1-17 give 'E'"
)
PRIVACY_REASON: Final = "privacy: natural persons' records never cross to NECIPS"


def outcome_steps(side: str | None = None) -> list[OutcomeStep]:
    """The outcome steps, optionally only those *side* decides."""
    return [s for s in STEPS if isinstance(s, OutcomeStep)
            and (side is None or s.side == side)]


def expected_counts() -> dict[str, int]:
    """How many of the day's rows should end each way: the summary's checks."""
    outcomes = outcome_steps()
    return {
        "to_necips": sum(s.side == CREDIT_CHINA and s.expect is Expect.CROSSES
                         for s in outcomes),
        "to_credit_china": sum(s.side == NECIPS and s.expect is Expect.CROSSES
                               for s in outcomes),
        "dead_letters": sum(s.expect is Expect.DEAD_LETTER for s in outcomes),
        "filtered": sum(s.expect is Expect.FILTERED for s in outcomes),
    }
