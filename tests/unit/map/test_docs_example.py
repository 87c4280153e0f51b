"""The annotated example in docs/mappings.md stays a valid mapping file."""

from __future__ import annotations

from pathlib import Path

from bridge.map.check import check_files

DOCS = Path(__file__).resolve().parents[3] / "docs" / "mappings.md"


def test_the_documented_example_passes_check(tmp_path: Path) -> None:
    example = DOCS.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```")[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")

    report = check_files([path], None)

    assert [str(p) for p in report.problems] == []
