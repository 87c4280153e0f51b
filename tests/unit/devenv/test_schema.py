from __future__ import annotations

from bridge.devenv.schema import SQL_DIR, statements


def test_statements_split_at_line_end_semicolons_and_drop_comments() -> None:
    sql = "-- header; ignored\nCREATE TABLE a (x int);\n\nSELECT ';' ;\n"

    assert statements(sql) == ["CREATE TABLE a (x int)", "SELECT ';'"]


def test_schema_files_name_the_contract_tables() -> None:
    postgres = (SQL_DIR / "postgres_schema.sql").read_text(encoding="utf-8")
    mysql = (SQL_DIR / "mysql_schema.sql").read_text(encoding="utf-8")

    for name in ("xyzg.xzcf_gs", "xyzg.xyxf_jg", "xyzg.xyxf_jg_gsxt",
                 "xyzg.v_xzcf_display", "bridge.heartbeat"):
        assert name in postgres
    for name in ("gsxt.E_CASE_PUB", "gsxt.E_CR_REPAIR", "gsxt.E_CR_REPAIR_XYZG",
                 "gsxt.V_CASE_DISPLAY", "bridge.heartbeat"):
        assert name in mysql
