"""Decode speed: events/s of decode_record versus json.loads alone of the same records.

Synthetic demo outcomes (Credit China ``xyzg.xyxf_jg`` from PostgreSQL, NECIPS
``gsxt.E_CR_REPAIR`` from MySQL), as Debezium 3.6's JSON converter writes them, with
schemas disabled (column types from a catalog hint) and enabled. The ratio says what
decoding costs on top of the parse every consumer pays anyway; the pipeline's budget
is about 6k events/s per connector on 2 cores.

    .venv/bin/python benchmarks/bench_decode.py [--records 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "unit" / "decode"))

from dbz_records import Col, Table, logical_col, mysql_source, pg_source, record  # noqa: E402

from bridge.decode import (  # noqa: E402
    ColumnKind,
    ColumnType,
    ColumnTypes,
    DecodeSettings,
    PositionSequencer,
    RecordDecoder,
)

TEXT = ColumnType(ColumnKind.TEXT)
ZONED = "io.debezium.time.ZonedTimestamp"

XYXF_JG = Table(
    "postgresql",
    "creditchina",
    "xyzg",
    "xyxf_jg",
    [
        Col("xf_bh", "string", False),
        Col("xdr_mc", "string", False),
        Col("xdr_lb", "string", False),
        Col("xdr_shxym", "string"),
        Col("xdr_zjhm", "string"),
        Col("cf_wsh_gf", "string"),
        Col("xf_lx", "string", False),
        Col("jdfk_bz", "boolean", False),
        Col("xf_jdwh", "string"),
        logical_col("xf_rq", "int32", "io.debezium.time.Date", optional=False),
        logical_col("xf_jdsj", "string", ZONED),
        Col("xf_dw", "string"),
        Col("xf_dwdm", "string"),
        logical_col("zzgs_sj", "string", ZONED),
        Col("sjly", "string", False),
        Col("dfbm", "string", False),
        logical_col("gxsj", "string", ZONED, optional=False),
    ],
    key=("xf_bh",),
)
XYXF_JG_TYPES = {
    **{c.name: TEXT for c in XYXF_JG.columns},
    "jdfk_bz": ColumnType(ColumnKind.BOOLEAN),
    "xf_rq": ColumnType(ColumnKind.DATE),
    "xf_jdsj": ColumnType(ColumnKind.TIMESTAMP_TZ, 6),
    "zzgs_sj": ColumnType(ColumnKind.TIMESTAMP_TZ, 6),
    "gxsj": ColumnType(ColumnKind.TIMESTAMP_TZ, 6),
}

E_CR_REPAIR = Table(
    "mysql",
    "necips",
    "gsxt",
    "E_CR_REPAIR",
    [
        Col("REPAIRNO", "string", False),
        Col("UNISCID", "string", False),
        Col("ENTNAME", "string", False),
        Col("REPAIRTYPE", "int16", False),
        Col("PENDECNO", "string"),
        Col("PENDECNO_NORM", "string"),
        Col("REPDECNO", "string"),
        Col("REPDECORG_CN", "string"),
        Col("REPDECORG_USCC", "string"),
        logical_col("REPDATE", "int64", "io.debezium.time.Timestamp", optional=False),
        logical_col("REPDECTIME", "int64", "io.debezium.time.MicroTimestamp"),
        logical_col("STOPPUBTIME", "int64", "io.debezium.time.MicroTimestamp"),
        Col("SRCSYS", "string", False),
        Col("S_EXT_NODENUM", "string", False),
    ],
    key=("REPAIRNO",),
)
E_CR_REPAIR_TYPES = {
    **{c.name: TEXT for c in E_CR_REPAIR.columns},
    "REPAIRTYPE": ColumnType(ColumnKind.INTEGER),
    "REPDATE": ColumnType(ColumnKind.TIMESTAMP, 0),
    "REPDECTIME": ColumnType(ColumnKind.TIMESTAMP, 6),
    "STOPPUBTIME": ColumnType(ColumnKind.TIMESTAMP, 6),
}

HINTS = ColumnTypes.from_kinds(
    {"xyzg.xyxf_jg": XYXF_JG_TYPES, "gsxt.E_CR_REPAIR": E_CR_REPAIR_TYPES}
)
CLASSES = {
    "postgresql": "io.debezium.connector.postgresql.PostgresConnector",
    "mysql": "io.debezium.connector.mysql.MySqlConnector",
}


def xyxf_jg_row(i: int) -> dict[str, Any]:
    return {
        "xf_bh": f"XF310000{i:010d}",
        "xdr_mc": "上海浦东某某贸易有限公司",
        "xdr_lb": "法人及非法人组织",
        "xdr_shxym": "91310115MA1K3YJ12X",
        "xdr_zjhm": None,
        "cf_wsh_gf": f"沪浦市监处〔2024〕{i % 1000}号",
        "xf_lx": "01",
        "jdfk_bz": i % 2 == 0,
        "xf_jdwh": f"沪信修〔2024〕{i}号",
        "xf_rq": 19782 + i % 300,
        "xf_jdsj": "2024-02-23T08:52:14.431487Z",
        "xf_dw": "上海市浦东新区市场监督管理局",
        "xf_dwdm": "11310115MB2F36481B",
        "zzgs_sj": "2024-02-23T08:52:14.431487Z",
        "sjly": "XYZG",
        "dfbm": "310000",
        "gxsj": "2024-02-23T08:52:15.000123Z",
    }


def e_cr_repair_row(i: int) -> dict[str, Any]:
    return {
        "REPAIRNO": f"GSXT440300{i:010d}",
        "UNISCID": "914403001922038216",
        "ENTNAME": "深圳市某某科技有限公司",
        "REPAIRTYPE": 4,
        "PENDECNO": f"深市监罚〔2023〕{i % 1000}号",
        "PENDECNO_NORM": f"深市监罚〔2023〕{i % 1000}号",
        "REPDECNO": f"深市监信修〔2024〕{i}号",
        "REPDECORG_CN": "深圳市市场监督管理局",
        "REPDECORG_USCC": "11440300MB2C92051D",
        "REPDATE": 1708678334000,
        "REPDECTIME": 1708678334431487,
        "STOPPUBTIME": 1708678334431487,
        "SRCSYS": "01",
        "S_EXT_NODENUM": "440300",
    }


def records(connector: str, schemas: bool, count: int) -> list[tuple[str, str]]:
    built = []
    for i in range(count):
        if connector == "postgresql":
            source = pg_source(XYXF_JG, 23803720 + 80 * i, 23803600 + 80 * i)
            row = xyxf_jg_row(i)
            table = XYXF_JG
        else:
            source = mysql_source(E_CR_REPAIR, 4000 + 700 * i)
            row = e_cr_repair_row(i)
            table = E_CR_REPAIR
        built.append(record(table, "c", None, row, source, schemas=schemas))
    return built


def settings(connector: str, schemas: bool) -> DecodeSettings:
    flag = "true" if schemas else "false"
    return DecodeSettings.from_connector_config(
        f"bench-{connector}",
        {
            "connector.class": CLASSES[connector],
            "decimal.handling.mode": "string",
            "time.precision.mode": "adaptive_time_microseconds",
            "converter.schemas.enable": flag,
            "converter.replace.null.with.default": "false",
        },
    )


def measure(
    connector: str, schemas: bool, count: int, repeat: int
) -> tuple[float, float]:
    batch = [
        (key.encode(), value.encode())
        for key, value in records(connector, schemas, count)
    ]
    decode_settings = settings(connector, schemas)
    decode_settings.validate(HINTS)

    def parse_only() -> None:
        for key, value in batch:
            json.loads(key)
            json.loads(value)

    def decode() -> None:
        decoder = RecordDecoder(decode_settings, HINTS)
        sequencer = PositionSequencer()
        for key, value in batch:
            decoder.decode(key, value, sequencer=sequencer)

    # Alternate the two so that a busy neighbour slows both alike; keep the best.
    best = {parse_only: float("inf"), decode: float("inf")}
    for _ in range(repeat):
        for run in (parse_only, decode):
            started = time.perf_counter()
            run()
            best[run] = min(best[run], time.perf_counter() - started)
    return count / best[parse_only], count / best[decode]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"{args.records} records, best of {args.repeat}")
    print(
        f"{'source':<11}{'schemas':<9}{'json.loads/s':>13}{'decode/s':>11}{'ratio':>8}"
    )
    for connector in ("postgresql", "mysql"):
        for schemas in (False, True):
            parsed, decoded = measure(connector, schemas, args.records, args.repeat)
            label = "on" if schemas else "off"
            ratio = decoded / parsed
            print(
                f"{connector:<11}{label:<9}{parsed:>13,.0f}{decoded:>11,.0f}{ratio:>8.2f}"
            )
    print("ratio = decode_record events/s / json.loads (key + value) records/s")


if __name__ == "__main__":
    main()
