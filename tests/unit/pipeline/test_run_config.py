"""The run configuration: read once, every problem reported together."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.pipeline.config import load_run_config, resolve_url

REPO = Path(__file__).resolve().parents[3]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_names_both_demo_pipelines_with_absolute_paths() -> None:
    config = load_run_config(REPO / "creditbridge.yaml")

    assert [(p.name, p.target) for p in config.pipelines] == [
        ("xyzg-to-gsxt", "necips"),
        ("gsxt-to-xyzg", "credit_china"),
    ]
    assert config.home == REPO / ".creditbridge"
    assert (
        config.pipelines[0].connector == REPO / "connectors/credit-china-outcomes.json"
    )
    assert config.pipelines[1].mappings == [REPO / "mappings/gsxt_to_xyzg.yaml"]
    assert config.observe.http_host == "127.0.0.1"


def test_paths_are_relative_to_the_config_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        tmp_path,
        "home: state\n"
        "databases: {necips: {url: 'mysql+pymysql://w@h/gsxt'}}\n"
        "pipelines:\n"
        "  - {name: one, connector: c/one.json, mappings: [m/one.yaml], "
        "target: necips}\n",
    )
    monkeypatch.chdir(REPO)

    config = load_run_config(path)

    assert config.home == tmp_path / "state"
    assert config.pipelines[0].connector == tmp_path / "c" / "one.json"
    assert config.pipelines[0].mappings == [tmp_path / "m" / "one.yaml"]


def test_field_problems_are_listed_together_with_their_keys(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "databases: {necips: {url: 'mysql://x'}}\n"
        "pipelines:\n"
        "  - {name: Bad Name, connector: c.json, mappings: [m.yaml], target: necips}\n"
        "  - {name: ok, connector: c.json, mappings: [m.yaml], target: necips, "
        "colour: blue}\n",
    )

    with pytest.raises(ConfigError) as raised:
        load_run_config(path)

    assert str(raised.value) == (
        f"{path}: pipelines.0.name: Value error, must be 1-64 lower-case letters, "
        "digits, '-' or '_', starting with a letter\n"
        f"{path}: pipelines.1.colour: Extra inputs are not permitted"
    )


def test_unknown_targets_duplicate_names_and_missing_mappings_are_listed(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "databases: {necips: {url: 'mysql://x'}}\n"
        "pipelines:\n"
        "  - {name: ok, connector: c.json, mappings: [m.yaml], target: credit_china}\n"
        "  - {name: ok, connector: c.json, mappings: [], target: necips}\n",
    )

    with pytest.raises(ConfigError) as raised:
        load_run_config(path)

    assert str(raised.value) == (
        f"{path}: pipelines.0.target: unknown database 'credit_china' "
        "(databases: necips)\n"
        f"{path}: pipelines.0.name: 'ok' is used twice\n"
        f"{path}: pipelines.1.name: 'ok' is used twice\n"
        f"{path}: pipelines.1.mappings: at least one mapping file is needed"
    )


def test_url_references_read_the_environment_and_secret_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("CB_TEST_USER", "cb_writer")

    url = resolve_url(f"mysql://${{env:CB_TEST_USER}}:${{file:{secret}}}@h/gsxt")

    assert url == "mysql://cb_writer:s3cret@h/gsxt"


def test_a_missing_reference_says_which_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CB_TEST_UNSET", raising=False)
    missing = tmp_path / "absent"

    with pytest.raises(ConfigError) as unset:
        resolve_url("mysql://u:${env:CB_TEST_UNSET}@h/db")
    with pytest.raises(ConfigError) as unreadable:
        resolve_url(f"mysql://u:${{file:{missing}}}@h/db")

    assert str(unset.value) == (
        "databases: environment variable CB_TEST_UNSET is not set; set it (see "
        "`creditbridge dev env`) and start again"
    )
    assert str(unreadable.value) == (
        f"databases: cannot read secret file {missing}: No such file or directory; "
        "nothing was started"
    )
