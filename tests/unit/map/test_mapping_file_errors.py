"""Every kind of mapping-file problem: exact message and exact file:line:column."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from bridge.map import MappingFileError, load_mapping
from bridge.map.check import check_files
from bridge.map.schemas import ColumnShape, SchemaSource, StaticSchemas


def problems(
    tmp_path: Path, text: str, schemas: SchemaSource | None = None
) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    report = check_files([path], schemas)
    return [str(p).replace(str(path), "m.yaml") for p in report.problems]


VALID = dedent(
    """\
    version: 1
    direction: two_way
    source:
      table: xyzg.src
    target:
      table: gsxt.DST
      key: [ID]
    columns:
      ID: {from: id}
      CODE:
        from: code
        transforms:
          - map: {values: {a: "1", b: "2"}}
      AMOUNT: {from: amount, transforms: [{scale: {from: 万元, to: fen}}]}
    conflict: {policy: target_wins}
    """
)

SCHEMAS = StaticSchemas(
    {
        "xyzg.src": [
            ColumnShape("id", "VARCHAR(10)", "str", 10),
            ColumnShape("code", "CHAR(1)", "str", 1, values=("a", "b", "c")),
            ColumnShape("amount", "NUMERIC(24, 6)", "decimal", scale=6),
            ColumnShape("name", "TEXT", "str"),
            ColumnShape("day", "DATE", "date"),
        ],
        "gsxt.DST": [
            ColumnShape("ID", "VARCHAR(10)", "str", 10),
            ColumnShape("SHORT", "VARCHAR(8)", "str", 8),
            ColumnShape("CODE", "CHAR(1)", "str", 1),
            ColumnShape("AMOUNT", "BIGINT UNSIGNED", "int"),
            ColumnShape("WAN", "DECIMAL(20, 2)", "decimal", scale=2),
            ColumnShape("KIND", "TINYINT", "int"),
            ColumnShape("DAY", "DATE", "date"),
            ColumnShape("LABEL", "VARCHAR(3)", "str", 3),
            ColumnShape("RATE", "DECIMAL(4, 2)", "decimal", scale=2),
        ],
    }
)


def test_the_valid_base_file_has_no_offline_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, VALID) == []


def test_yaml_syntax_error_has_its_position(tmp_path: Path) -> None:
    assert problems(tmp_path, "version: 1\ncolumns: [a, b\n") == [
        "m.yaml:3:1: (file): YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_unknown_keys_at_every_level(tmp_path: Path) -> None:
    text = VALID.replace("direction", "colour: red\ndirection").replace(
        "  ID: {from: id}", "  ID: {from: id, defualt: x}"
    )
    assert problems(tmp_path, text) == [
        "m.yaml:2:1: colour: unknown key 'colour'; expected one of version, name, "
        "description, direction, zone, source, target, filters, columns, reverse, "
        "on_delete, conflict, metadata",
        "m.yaml:10:18: columns.ID.defualt: unknown key 'defualt'; expected one of "
        "from, const, expr, default, transforms, note",
    ]


def test_unknown_transform(tmp_path: Path) -> None:
    text = VALID.replace("{from: id}", "{from: id, transforms: [trim, uppercase]}")
    assert problems(tmp_path, text) == [
        "m.yaml:9:37: columns.ID.transforms[1]: unknown transform 'uppercase'; known: "
        "bool_from_int, date_to_local_midnight, fold_decision_number, int_from_bool, "
        "local_datetime_to_date, local_to_utc, map, mask_id, nfkc, required, scale, "
        "trim, upper, uscc, utc_to_local"
    ]


def test_identifiers_must_be_plain_names(tmp_path: Path) -> None:
    text = (
        VALID.replace("xyzg.src", "xyzg.src; drop table x")
        .replace("{from: id}", '{from: "id--"}')
        .replace("  CODE:", '  "CO DE":')
    )
    assert problems(tmp_path, text) == [
        "m.yaml:4:3: source.table: table 'xyzg.src; drop table x' must be written "
        "schema.table with plain names",
        "m.yaml:9:8: columns.ID.from: source column 'id--' is not a plain name "
        "(letters, digits, underscore; not starting with a digit)",
        "m.yaml:10:3: columns.CO DE: target column 'CO DE' is not a plain name "
        "(letters, digits, underscore; not starting with a digit)",
    ]


def test_expression_with_a_forbidden_call(tmp_path: Path) -> None:
    text = VALID.replace("{from: id}", """{expr: "open('/etc/passwd')"}""")
    assert problems(tmp_path, text) == [
        "m.yaml:9:8: columns.ID.expr: \"open('/etc/passwd')\" calls 'open', which is "
        "not an allowed function; allowed: Decimal, add_months, coalesce, "
        "fold_decision_number, int, is_valid_uscc, len, lower, mask_id, str, trim, "
        "upper"
    ]


def test_two_way_column_without_a_way_back(tmp_path: Path) -> None:
    text = VALID.replace("{from: id}", "{from: id, transforms: [fold_decision_number]}")
    assert problems(tmp_path, text) == [
        "m.yaml:9:3: columns.ID: two-way mapping without a way back: its transforms "
        "(fold_decision_number) cannot be undone; state how to compute id under "
        "reverse:"
    ]


def test_two_way_many_to_one_map_needs_an_explicit_reverse(tmp_path: Path) -> None:
    text = VALID.replace('{a: "1", b: "2"}', '{a: "1", b: "1"}')
    assert problems(tmp_path, text) == [
        "m.yaml:10:3: columns.CODE: two-way mapping without a way back: its "
        "transforms (map) cannot be undone; state how to compute code under reverse:"
    ]
    stated = text + "reverse:\n  code: {expr: \"'a'\"}\n"
    assert problems(tmp_path, stated) == []


def test_two_way_expression_needs_reverse_for_what_it_reads(tmp_path: Path) -> None:
    text = VALID.replace("{from: id}", '{expr: "trim(id)"}')
    assert problems(tmp_path, text) == [
        "m.yaml:9:3: columns.ID: two-way mapping without a way back: an expression "
        "cannot be undone; state how to compute id under reverse:"
    ]


def test_reverse_rule_reading_an_unmapped_target_column(tmp_path: Path) -> None:
    text = VALID + "reverse:\n  id: {from: NOPE}\n"
    assert problems(tmp_path, text) == [
        "m.yaml:17:3: reverse.id: reads NOPE, which is not a mapped target column; a "
        "reverse rule computes a source column from the target row"
    ]


def test_policies_and_metadata(tmp_path: Path) -> None:
    text = VALID.replace("{policy: target_wins}", "{policy: newer_wins}") + dedent(
        """\
        on_delete: {policy: purge}
        metadata: {origin: ID}
        """
    )
    assert problems(tmp_path, text) == [
        "m.yaml:15:1: conflict: newer_wins (the default conflict policy) needs "
        "'conflict.column', the target column that orders decisions",
        "m.yaml:16:13: on_delete.policy: policy 'purge' must be one of delete, "
        "soft_delete, ignore",
        "m.yaml:17:12: metadata.origin: ID is also a mapped column; the bridge fills "
        "it itself",
    ]


def test_load_mapping_raises_with_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        VALID.replace("version: 1", "version: 2").replace(
            "{from: id}", "{from: id, transforms: [uppercase]}"
        ),
        encoding="utf-8",
    )
    with pytest.raises(MappingFileError) as caught:
        load_mapping(path)
    assert str(caught.value) == (
        f"{path}:1:1: version: version 2 is not supported; this bridge reads 1\n"
        f"{path}:9:31: columns.ID.transforms[0]: unknown transform 'uppercase'; "
        "known: bool_from_int, date_to_local_midnight, fold_decision_number, "
        "int_from_bool, local_datetime_to_date, local_to_utc, map, mask_id, nfkc, "
        "required, scale, trim, upper, uscc, utc_to_local\n"
        "2 problems in mapping files; fix them and run 'creditbridge check' again, "
        "nothing was loaded"
    )


# --- against table shapes ---------------------------------------------------------


def test_valid_base_file_fits_the_tables(tmp_path: Path) -> None:
    assert problems(tmp_path, VALID, SCHEMAS) == [
        # code has a third possible value the map does not cover.
        "m.yaml:13:9: columns.CODE.transforms[0]: the value map does not cover 'c' "
        "of code's possible values; map them or give a default",
    ]


def test_unknown_tables(tmp_path: Path) -> None:
    text = VALID.replace("xyzg.src", "xyzg.nope").replace("gsxt.DST", "gsxt.NOPE")
    assert problems(tmp_path, text, SCHEMAS) == [
        "m.yaml:4:3: source.table: table xyzg.nope does not exist in the live schema",
        "m.yaml:6:3: target.table: table gsxt.NOPE does not exist in the live schema",
    ]


def test_unknown_source_and_target_columns(tmp_path: Path) -> None:
    text = (
        VALID.replace("{from: amount,", "{from: amuont,")
        .replace("  CODE:", "  CODEX:")
        .replace('{a: "1", b: "2"}', '{a: "1", b: "2", c: "3"}')
    )
    assert problems(tmp_path, text, SCHEMAS)[:2] == [
        "m.yaml:10:3: columns.CODEX: unknown target column CODEX; gsxt.DST has no "
        "such column (did you mean CODE?)",
        "m.yaml:14:12: columns.AMOUNT.from: unknown source column amuont; xyzg.src "
        "has no such column (did you mean amount?)",
    ]


TYPES = dedent(
    """\
    version: 1
    source: {table: xyzg.src}
    target: {table: gsxt.DST, key: [ID]}
    columns:
      ID: {from: name}
      CODE: {from: code, transforms: [{map: {values: {a: 1, b: "22", c: "3"}}}]}
      WAN: {from: amount, transforms: [{scale: {from: 万元, to: 万元}}]}
      LABEL: {const: "toolong"}
      RATE: {const: 0.125}
      DAY: {from: day, transforms: [date_to_local_midnight]}
      KIND: {from: code, transforms: [{map: {values: {a: "1", b: 2, c: 3}}}]}
    conflict: {policy: target_wins}
    """
)


def test_values_that_cannot_fit_the_target_column(tmp_path: Path) -> None:
    assert problems(tmp_path, TYPES, SCHEMAS) == [
        "m.yaml:6:35: columns.CODE.transforms[0]: map value '22' has 2 characters, "
        "but CODE is CHAR(1)",
        "m.yaml:6:35: columns.CODE.transforms[0]: map value 1 is an integer, but "
        "CODE is CHAR(1)",
        "m.yaml:7:36: columns.WAN.transforms[0]: scale produces 6 decimal places, "
        "but WAN is DECIMAL(20, 2) (2 places)",
        "m.yaml:8:11: columns.LABEL.const: const 'toolong' has 7 characters, but "
        "LABEL is VARCHAR(3)",
        "m.yaml:9:10: columns.RATE.const: const 0.125 has 3 decimal places, but "
        "RATE is DECIMAL(4, 2) (2 places)",
        "m.yaml:10:20: columns.DAY.transforms: date_to_local_midnight produces a "
        "date-time, but DAY is DATE",
        "m.yaml:11:35: columns.KIND.transforms[0]: map value '1' is text, but KIND "
        "is TINYINT",
    ]


def test_source_column_longer_than_the_target_column(tmp_path: Path) -> None:
    text = VALID.replace("  ID: {from: id}", "  ID: {from: id}\n  SHORT: {from: id}")
    assert problems(tmp_path, text.replace("two_way", "one_way"), SCHEMAS)[0] == (
        "m.yaml:10:11: columns.SHORT.from: source column id is VARCHAR(10), longer "
        "than SHORT VARCHAR(8); longer values would be refused by the target database"
    )


def test_declared_domain_is_checked_for_coverage(tmp_path: Path) -> None:
    text = VALID.replace(
        "  table: xyzg.src\n",
        "  table: xyzg.src\n  domains: {code: [a, b, z]}\n",
    )
    assert problems(tmp_path, text, SCHEMAS)[0] == (
        "m.yaml:14:9: columns.CODE.transforms[0]: the value map does not cover 'z' "
        "of code's possible values; map them or give a default"
    )


def test_a_default_covers_every_value(tmp_path: Path) -> None:
    text = VALID.replace(
        '{values: {a: "1", b: "2"}}', '{values: {a: "1"}, default: "0"}'
    )
    text = text.replace("direction: two_way", "direction: one_way")
    assert "does not cover" not in " ".join(problems(tmp_path, text, SCHEMAS))


def test_stated_reverse_values_must_fit_the_source_column(tmp_path: Path) -> None:
    text = VALID.replace('{a: "1", b: "2"}', '{a: "1", b: "1"}') + dedent(
        """\
        reverse:
          code: {from: CODE, transforms: [{map: {values: {"1": 1}}}]}
        """
    )
    assert problems(tmp_path, text, SCHEMAS) == [
        "m.yaml:13:9: columns.CODE.transforms[0]: the value map does not cover 'c' "
        "of code's possible values; map them or give a default",
        "m.yaml:17:35: reverse.code.transforms[0]: map value 1 is an integer, but "
        "code is CHAR(1)",
    ]


# --- echoes and misspellings (regressions from a new user's first check) ----------

READS_FLAG = VALID.replace(
    '{a: "1", b: "2"}', "{a: \"1\", b: {expr: \"'2' if flag else '3'\"}}"
) + dedent(
    """\
    reverse:
      code: {from: CODE, transforms: [{map: {values: {"1": a, "2": b, "3": b}}}]}
      flag: {expr: "CODE == '2'"}
    """
)

FLAG_SCHEMAS = StaticSchemas(
    {
        "xyzg.src": [
            ColumnShape("id", "VARCHAR(10)", "str", 10),
            ColumnShape("code", "CHAR(1)", "str", 1, values=("a", "b")),
            ColumnShape("flag", "BOOLEAN", "bool"),
            ColumnShape("amount", "NUMERIC(24, 6)", "decimal", scale=6),
        ],
        "gsxt.DST": [
            ColumnShape("ID", "VARCHAR(10)", "str", 10),
            ColumnShape("CODE", "CHAR(1)", "str", 1),
            ColumnShape("AMOUNT", "BIGINT UNSIGNED", "int"),
        ],
    }
)


def test_file_reading_a_stated_source_column_fits(tmp_path: Path) -> None:
    assert problems(tmp_path, READS_FLAG) == []
    assert problems(tmp_path, READS_FLAG, FLAG_SCHEMAS) == []


def test_misspelt_name_in_a_two_way_expression_is_an_unknown_column(
    tmp_path: Path,
) -> None:
    """Pins: a typo read as a missing way back, the typo itself never reported."""
    text = READS_FLAG.replace("if flag else", "if flagg else")

    assert problems(tmp_path, text, FLAG_SCHEMAS) == [
        "m.yaml:10:3: columns.CODE: unknown source column flagg; xyzg.src has no such "
        "column (did you mean flag?)"
    ]


def test_misspelt_name_in_a_two_way_expression_offline_suggests_the_name(
    tmp_path: Path,
) -> None:
    text = READS_FLAG.replace("if flag else", "if flagg else")

    assert problems(tmp_path, text) == [
        "m.yaml:10:3: columns.CODE: two-way mapping without a way back: its "
        "transforms (map) cannot be undone; state how to compute flagg under "
        "reverse: (did you mean flag?)"
    ]


def test_a_real_column_without_a_way_back_still_needs_one_with_live_schemas(
    tmp_path: Path,
) -> None:
    text = READS_FLAG.replace("  flag: {expr: \"CODE == '2'\"}\n", "")

    assert problems(tmp_path, text, FLAG_SCHEMAS) == [
        "m.yaml:10:3: columns.CODE: two-way mapping without a way back: its "
        "transforms (map) cannot be undone; state how to compute flag under reverse:"
    ]


def test_a_bad_expression_causes_no_follow_on_reverse_problems(
    tmp_path: Path,
) -> None:
    """Pins: reverse rules reading a column whose expression failed to compile."""
    text = READS_FLAG.replace("if flag else", "if flag els")

    assert problems(tmp_path, text, FLAG_SCHEMAS) == [
        "m.yaml:13:36: columns.CODE.transforms[0].map.values.b.expr: \"'2' if flag "
        "els '3'\" is not a valid expression: expected 'else' after 'if' expression"
    ]


def test_a_bad_reverse_rule_causes_no_missing_way_back(tmp_path: Path) -> None:
    text = READS_FLAG.replace("flag: {expr: \"CODE == '2'\"}", 'flag: {expr: "=="}')

    assert problems(tmp_path, text) == [
        "m.yaml:18:10: reverse.flag.expr: '==' is not a valid expression: invalid "
        "syntax"
    ]


def test_a_bad_from_column_causes_no_missing_way_back(tmp_path: Path) -> None:
    text = VALID.replace(
        "  ID: {from: id}", "  ID: {from: id, transforms: [uppercase]}"
    ).replace("  CODE:\n", '  LABEL: {expr: "id"}\n  CODE:\n')

    assert problems(tmp_path, text) == [
        "m.yaml:9:31: columns.ID.transforms[0]: unknown transform 'uppercase'; known: "
        "bool_from_int, date_to_local_midnight, fold_decision_number, int_from_bool, "
        "local_datetime_to_date, local_to_utc, map, mask_id, nfkc, required, scale, "
        "trim, upper, uscc, utc_to_local"
    ]


def test_the_parts_that_compiled_are_checked_against_the_tables(
    tmp_path: Path,
) -> None:
    """Every problem at once: a bad transform does not hide an unknown column."""
    text = VALID.replace(
        "  ID: {from: id}", "  ID: {from: id, transforms: [uppercase]}"
    ).replace("{from: amount,", "{from: amuont,")

    found = problems(tmp_path, text, SCHEMAS)

    assert found[0].startswith("m.yaml:9:31: columns.ID.transforms[0]: unknown ")
    assert found[1:] == [
        "m.yaml:13:9: columns.CODE.transforms[0]: the value map does not cover 'c' "
        "of code's possible values; map them or give a default",
        "m.yaml:14:12: columns.AMOUNT.from: unknown source column amuont; xyzg.src "
        "has no such column (did you mean amount?)",
    ]


def test_a_broken_table_name_is_not_looked_up(tmp_path: Path) -> None:
    text = VALID.replace("xyzg.src", "src")

    assert problems(tmp_path, text, SCHEMAS) == [
        "m.yaml:4:3: source.table: table 'src' must be written schema.table with "
        "plain names"
    ]


# --- NOT NULL target columns ---------------------------------------------------------

NOT_NULL = StaticSchemas(
    {
        "xyzg.src": [
            ColumnShape("id", "VARCHAR(10)", "str", 10),
            ColumnShape("code", "CHAR(1)", "str", 1, values=("a", "b")),
            ColumnShape("amount", "NUMERIC(24, 6)", "decimal", scale=6),
        ],
        "gsxt.DST": [
            ColumnShape("ID", "VARCHAR(10)", "str", 10, nullable=False),
            ColumnShape("CODE", "CHAR(1)", "str", 1, nullable=False),
            ColumnShape("AMOUNT", "BIGINT UNSIGNED", "int", nullable=False),
            ColumnShape("SEQ", "BIGINT", "int", nullable=False, filled=True),
            ColumnShape("WAN", "DECIMAL(20, 6)", "decimal", scale=6),
        ],
    }
)


def test_a_mapping_writing_every_not_null_column_fits(tmp_path: Path) -> None:
    assert problems(tmp_path, VALID, NOT_NULL) == []


def test_an_unwritten_not_null_column_is_a_problem_at_the_columns_section(
    tmp_path: Path,
) -> None:
    text = VALID.replace("  AMOUNT: {from: amount, ", "  WAN: {from: amount, ")

    assert problems(tmp_path, text, NOT_NULL) == [
        "m.yaml:8:1: columns: target column AMOUNT is NOT NULL and has no default, "
        "but no column of this mapping writes it, so the target database would "
        "refuse every row; map it or give the column a default"
    ]


def test_a_not_null_column_whose_rule_failed_is_not_reported_unwritten(
    tmp_path: Path,
) -> None:
    """Pins: a broken CODE rule echoed as 'no column of this mapping writes it'."""
    text = VALID.replace("- map: {values", "- mapp: {values")

    assert problems(tmp_path, text, NOT_NULL) == [
        "m.yaml:13:9: columns.CODE.transforms[0]: unknown transform 'mapp'; did you "
        "mean 'map'? known: "
        "bool_from_int, date_to_local_midnight, fold_decision_number, int_from_bool, "
        "local_datetime_to_date, local_to_utc, map, mask_id, nfkc, required, scale, "
        "trim, upper, uscc, utc_to_local"
    ]


# --- text of unbounded length -----------------------------------------------------


def warnings(tmp_path: Path, text: str, schemas: SchemaSource) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(dedent(text), encoding="utf-8")
    report = check_files([path], schemas)
    return [str(p).replace(str(path), "m.yaml") for p in report.warnings]


LENGTHS = StaticSchemas(
    {
        "xyzg.src": [
            ColumnShape("id", "VARCHAR(10)", "str", 10),
            ColumnShape("name", "TEXT", "str"),
            ColumnShape("kind", "TEXT", "str", values=("法人及非法人组织", "个体")),
            ColumnShape("day", "DATE", "date"),
        ],
        "gsxt.DST": [
            ColumnShape("ID", "VARCHAR(10)", "str", 10),
            ColumnShape("NODE", "CHAR(6)", "str", 6),
            ColumnShape("NOTE", "TEXT", "str"),
            ColumnShape("DAY", "DATE", "date"),
        ],
    }
)

UNBOUNDED = dedent(
    """\
    version: 1
    source: {table: xyzg.src}
    target: {table: gsxt.DST, key: [ID]}
    columns:
      ID: {from: id}
      NODE: {from: name}
      NOTE: {from: name}
      DAY: {from: day}
    conflict: {policy: source_wins}
    """
)


def test_unbounded_text_into_a_bounded_column_is_a_warning(tmp_path: Path) -> None:
    """Pins: TEXT -> CHAR(6) passed silently while VARCHAR(40) -> CHAR(6) failed."""
    assert problems(tmp_path, UNBOUNDED, LENGTHS) == []
    assert warnings(tmp_path, UNBOUNDED, LENGTHS) == [
        "m.yaml:6:10: columns.NODE.from: warning: source column name is TEXT, with no "
        "length limit, but NODE is CHAR(6); a value longer than 6 characters would "
        "be refused by the target database and its row sent to the dead-letter table"
    ]


def test_unbounded_text_with_listed_values_is_checked_value_by_value(
    tmp_path: Path,
) -> None:
    text = UNBOUNDED.replace("NODE: {from: name}", "NODE: {from: kind}")

    assert warnings(tmp_path, text, LENGTHS) == []
    assert problems(tmp_path, text, LENGTHS) == [
        "m.yaml:6:10: columns.NODE.from: kind value '法人及非法人组织' has 8 "
        "characters, but NODE is CHAR(6)"
    ]
    # A domain declared in the file takes the place of the column's listed values.
    declared = text.replace(
        "source: {table: xyzg.src}",
        "source: {table: xyzg.src, domains: {kind: [个体, 合伙]}}",
    )
    assert problems(tmp_path, declared, LENGTHS) == []
    assert warnings(tmp_path, declared, LENGTHS) == []
