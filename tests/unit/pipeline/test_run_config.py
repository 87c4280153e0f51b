"""The run configuration: read once, every problem reported together."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.pipeline.config import load_run_config, read_run_config, resolve_url

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
    for name in ("c/one.json", "m/one.yaml"):
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).touch()
    monkeypatch.chdir(REPO)

    config = load_run_config(path)

    assert config.home == tmp_path / "state"
    assert config.pipelines[0].connector == tmp_path / "c" / "one.json"
    assert config.pipelines[0].mappings == [tmp_path / "m" / "one.yaml"]


def test_field_problems_are_listed_together_with_their_positions(
    tmp_path: Path,
) -> None:
    (tmp_path / "c.json").touch()
    (tmp_path / "m.yaml").touch()
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
        f"{path}:3:6: pipelines[0].name: must be 1-64 lower-case letters, "
        "digits, '-' or '_', starting with a letter\n"
        f"{path}:4:71: pipelines[1].colour: unknown key 'colour' in pipelines[1] "
        "(valid keys: name, connector, mappings, target, description, transport, "
        "province_column, max_held_events)\n"
        f"2 problems in {path}; nothing was started"
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
        f"{path}:3:6: pipelines[0].name: 'ok' is used twice\n"
        f"{path}:3:55: pipelines[0].target: unknown database 'credit_china' "
        "(databases: necips)\n"
        f"{path}:4:6: pipelines[1].name: 'ok' is used twice\n"
        f"{path}:4:35: pipelines[1].mappings: at least one mapping file is needed\n"
        f"4 problems in {path}; nothing was started"
    )


def test_url_references_read_the_environment_and_secret_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "password"
    secret.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("CB_TEST_USER", "cb_writer")

    url = resolve_url(f"mysql://${{env:CB_TEST_USER}}:${{file:{secret}}}@h/gsxt")

    assert url == "mysql://cb_writer:s3cret@h/gsxt"


def test_a_key_of_a_properties_file_is_read_as_connector_files_do(
    tmp_path: Path,
) -> None:
    """Pins: `${file:secrets.env:KEY}` refused as a file named `secrets.env:KEY`."""
    secrets = tmp_path / "secrets.env"
    secrets.write_text(
        "# writer accounts\nCREDITBRIDGE_MYSQL_WRITER_URL = mysql://w:s3cret@h/gsxt\n",
        encoding="utf-8",
    )

    url = resolve_url(f"${{file:{secrets}:CREDITBRIDGE_MYSQL_WRITER_URL}}")
    with pytest.raises(ConfigError) as absent:
        resolve_url(f"${{file:{secrets}:CREDITBRIDGE_PG_WRITER_URL}}")

    assert url == "mysql://w:s3cret@h/gsxt"
    assert str(absent.value) == (
        f"databases: secret file {secrets} has no CREDITBRIDGE_PG_WRITER_URL= line; "
        "add it or correct the reference"
    )


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
        "create it or correct the reference"
    )


def test_a_heap_that_is_no_size_says_so_in_our_words(tmp_path: Path) -> None:
    """Pins: `String should match pattern '^[0-9]+[mgMG]$'` for `jvm.heap: lots`."""
    path = _write(tmp_path, _shipped().replace("heap: 512m", "heap: lots"))

    config, problems = read_run_config(path)

    assert [str(p) for p in problems] == [
        f"{path}:31:3: jvm.heap: expected a size such as 512m or 2g, got 'lots'"
    ]
    assert config is not None and config.jvm.heap == "512m"


def test_a_command_names_what_it_did_not_do(tmp_path: Path) -> None:
    path = _write(tmp_path, _shipped().replace("home:", "hoem:"))

    with pytest.raises(ConfigError) as raised:
        load_run_config(path, then="nothing was reported")

    assert str(raised.value).splitlines()[-1] == (
        f"1 problem in {path}; nothing was reported"
    )


def _user_copy(tmp_path: Path, text: str | None = None) -> Path:
    """The shipped config copied into a folder of its own, as a new user does."""
    folder = tmp_path / "mytry"
    folder.mkdir()
    path = folder / "cb.yaml"
    shipped = (REPO / "creditbridge.yaml").read_text(encoding="utf-8")
    path.write_text(shipped if text is None else text, encoding="utf-8")
    return path


def test_a_copied_config_says_relative_paths_follow_its_folder(
    tmp_path: Path,
) -> None:
    """Pins: a copy in another folder failing with "cannot read connector file"."""
    path = _user_copy(tmp_path)
    folder = path.parent.resolve()

    with pytest.raises(ConfigError) as raised:
        load_run_config(path)

    hint = (
        f": relative paths are relative to the config file's folder {folder}, not "
        "the working directory"
    )
    assert str(raised.value).splitlines() == [
        f"{path}:15:5: pipelines[0].connector: connector file "
        "connectors/credit-china-outcomes.json not found at "
        f"{folder}/connectors/credit-china-outcomes.json{hint}",
        f"{path}:16:16: pipelines[0].mappings[0]: mapping file "
        f"mappings/xyzg_to_gsxt.yaml not found at {folder}/mappings/xyzg_to_gsxt.yaml"
        f"{hint}",
        f"{path}:21:5: pipelines[1].connector: connector file "
        f"connectors/necips-outcomes.json not found at "
        f"{folder}/connectors/necips-outcomes.json{hint}",
        f"{path}:22:16: pipelines[1].mappings[0]: mapping file "
        f"mappings/gsxt_to_xyzg.yaml not found at {folder}/mappings/gsxt_to_xyzg.yaml"
        f"{hint}",
        f"4 problems in {path}; nothing was started",
    ]


def test_an_absolute_path_that_does_not_exist_is_named_without_the_hint(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "absent.json"
    path = _write(
        tmp_path,
        "databases: {necips: {url: 'mysql://x'}}\n"
        "pipelines:\n"
        f"  - name: one\n    connector: {missing}\n"
        f"    mappings: [{REPO / 'mappings/xyzg_to_gsxt.yaml'}]\n"
        "    target: necips\n",
    )

    with pytest.raises(ConfigError) as raised:
        load_run_config(path)

    assert str(raised.value).splitlines()[0] == (
        f"{path}:4:5: pipelines[0].connector: connector file {missing} does not exist"
    )


def _shipped() -> str:
    """The shipped config with absolute connector and mapping paths."""
    text = (REPO / "creditbridge.yaml").read_text(encoding="utf-8")
    return text.replace(" connectors/", f" {REPO}/connectors/").replace(
        "[mappings/", f"[{REPO}/mappings/"
    )


def test_unknown_keys_name_the_valid_ones_and_a_likely_match(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _shipped()
        .replace("http_port:", "http_pot:")
        .replace("    mappings:", "    conector: x\n    mappings:", 1)
        .replace("home:", "hoem:"),
    )

    config, problems = read_run_config(path)

    assert [str(p) for p in problems] == [
        f"{path}:4:1: hoem: unknown key 'hoem' in the top level; did you mean "
        "'home'? (valid keys: home, databases, pipelines, kafka, observe, jvm)",
        f"{path}:16:5: pipelines[0].conector: unknown key 'conector' in "
        "pipelines[0]; did you mean 'connector'? (valid keys: name, connector, "
        "mappings, target, description, transport, province_column, "
        "max_held_events)",
        f"{path}:28:3: observe.http_pot: unknown key 'http_pot' in observe; did you "
        "mean 'http_port'? (valid keys: http_host, http_port, max_lag_seconds, "
        "heartbeat_seconds, log_level)",
    ]
    # The rest is still usable, so that `run` goes on to check the mappings.
    assert config is not None
    assert [p.name for p in config.pipelines] == ["xyzg-to-gsxt", "gsxt-to-xyzg"]


def test_a_misspelt_required_key_is_one_problem_and_its_pipeline_still_checked(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "databases: {necips: {url: 'mysql://x'}}\n"
        "pipelines:\n"
        "  - name: one\n"
        f"    connector: {REPO / 'connectors/credit-china-outcomes.json'}\n"
        f"    mappings: [{REPO / 'mappings/xyzg_to_gsxt.yaml'}]\n"
        "    taget: necips\n"
        "  - name: two\n",
    )

    config, problems = read_run_config(path)

    assert [str(p) for p in problems] == [
        f"{path}:6:5: pipelines[0].taget: unknown key 'taget' in pipelines[0]; did "
        "you mean 'target'? (valid keys: name, connector, mappings, target, "
        "description, transport, province_column, max_held_events)",
        f"{path}:7:5: pipelines[1].connector: required key 'connector' is missing "
        "in pipelines[1] (two)",
        f"{path}:7:5: pipelines[1].mappings: required key 'mappings' is missing in "
        "pipelines[1] (two)",
        f"{path}:7:5: pipelines[1].target: required key 'target' is missing in "
        "pipelines[1] (two)",
    ]
    assert config is not None
    assert [(p.name, p.target) for p in config.pipelines] == [("one", "necips")]


def test_bad_values_are_named_with_what_was_given(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _shipped()
        .replace("max_lag_seconds: 60", "max_lag_seconds: 60\n  log_level: debug")
        .replace("http_port: 9187", "http_port: -1"),
    )

    _, problems = read_run_config(path)

    assert [str(p) for p in problems] == [
        f"{path}:27:3: observe.http_port: must be greater than or equal to 0, got -1",
        f"{path}:29:3: observe.log_level: expected 'DEBUG', 'INFO', 'WARNING' or "
        "'ERROR', got 'debug'",
    ]


def test_an_open_transaction_is_held_whole_up_to_50000_events_unless_set(
    tmp_path: Path,
) -> None:
    shipped = load_run_config(REPO / "creditbridge.yaml")
    path = _write(
        tmp_path,
        _shipped().replace(
            "    province_column: dfbm",
            "    province_column: dfbm\n    max_held_events: 0",
        ),
    )

    _, problems = read_run_config(path)

    assert [p.max_held_events for p in shipped.pipelines] == [50_000, 50_000]
    assert [str(p) for p in problems] == [
        f"{path}:25:5: pipelines[1].max_held_events: must be greater than or equal "
        "to 1, got 0"
    ]


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    """Pins: 'in "<unicode string>", line 2, column 1' instead of the file name."""
    path = _write(tmp_path, "home: .creditbridge\ndatabases: {necips: {url: x}\n")

    with pytest.raises(ConfigError) as raised:
        load_run_config(path)

    assert str(raised.value) == (
        f"{path}:3:1: (file): YAML: expected ',' or '}}', but got '<stream end>'\n"
        f"1 problem in {path}; nothing was started"
    )


def test_a_literal_password_in_a_url_is_refused_and_masked(tmp_path: Path) -> None:
    literal = "postgresql+psycopg://cb_writer:s3cret@db:5432/creditbridge"
    path = _write(
        tmp_path, _shipped().replace("${env:CREDITBRIDGE_PG_WRITER_URL}", literal)
    )

    with pytest.raises(ConfigError) as raised:
        load_run_config(path)

    assert str(raised.value) == (
        f"{path}:8:5: databases.credit_china.url: the URL "
        "postgresql+psycopg://cb_writer:***@db:5432/creditbridge holds a literal "
        "password; give the URL or the password alone as a reference instead, "
        "${env:NAME} or ${file:PATH}, so that no password is kept in this file\n"
        f"1 problem in {path}; nothing was started"
    )


def test_a_password_given_by_reference_inside_a_literal_url_is_accepted(
    tmp_path: Path,
) -> None:
    """Secret files are found relative to the config file's folder, too."""
    (tmp_path / "pw").write_text("s3cret\n", encoding="utf-8")
    (tmp_path / "c.json").touch()
    (tmp_path / "m.yaml").touch()
    path = _write(
        tmp_path,
        "databases: {necips: {url: 'mysql+pymysql://w:${file:pw}@h/gsxt'}}\n"
        "pipelines:\n"
        "  - {name: one, connector: c.json, mappings: [m.yaml], target: necips}\n",
    )

    config = load_run_config(path)

    assert (
        resolve_url(config.database("necips").url) == "mysql+pymysql://w:s3cret@h/gsxt"
    )
