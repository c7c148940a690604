"""[tool.strangler] configuration: precedence flag > env > pyproject > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.scoring import DEFAULT_WEIGHTS
from strangler.config import Config, ConfigError, load_config


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.strangler]\n{table}\n", encoding="utf-8")
    return tmp_path


def test_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path, {}, {})
    assert config == Config()
    assert dict(config.weights) == DEFAULT_WEIGHTS
    assert config.cache_path(tmp_path) == tmp_path / ".strangler" / "cache"
    assert config.route_store.startswith("sqlite:")
    assert config.broker_url == "filesystem://"


def test_precedence_flag_over_env_over_pyproject(tmp_path: Path) -> None:
    root = _project(tmp_path, 'top = 5\ncache_dir = "from-pyproject"\ntarget = "fn"')
    env = {"STRANGLER_TOP": "7", "STRANGLER_CACHE_DIR": "from-env"}
    config = load_config(root, {"top": "9"}, env)
    assert config.top == 9
    assert config.sources["top"] == "flag"
    assert config.cache_dir == "from-env"
    assert config.sources["cache_dir"] == "env"
    assert config.target == "fn"
    assert config.sources["target"] == "pyproject"
    assert load_config(root, {}, env).top == 7
    assert load_config(root, {}, {}).top == 5


def test_weights_merge_key_by_key(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.strangler.weights]\nshared_writes = 3\ntests = 0.1")
    config = load_config(root, {"weights": ["tests=2"]}, {"STRANGLER_WEIGHTS": "cycles=4,tests=1"})
    assert config.weights["shared_writes"] == 3.0  # pyproject
    assert config.weights["cycles"] == 4.0  # env
    assert config.weights["tests"] == 2.0  # flag wins
    assert config.weights["size"] == DEFAULT_WEIGHTS["size"]  # default


def test_excludes_and_booleans(tmp_path: Path) -> None:
    root = _project(tmp_path, 'exclude = ["**/migrations/*", "legacy/*"]\nstrict = true')
    config = load_config(root, {}, {"STRANGLER_CACHE": "0", "STRANGLER_JOBS": "3"})
    assert config.exclude == ("**/migrations/*", "legacy/*")
    assert config.strict is True
    assert config.cache is False
    assert config.jobs == 3
    for auto in ("auto", "0", " AUTO "):  # the default, spelled alike everywhere
        assert load_config(root, {"jobs": auto}, {}).jobs is None
        assert load_config(root, {}, {"STRANGLER_JOBS": auto}).jobs is None
    assert load_config(root, {"exclude": ("x/*",)}, {}).exclude == ("x/*",)
    assert load_config(root, {}, {"STRANGLER_EXCLUDE": "a/*, b/*"}).exclude == ("a/*", "b/*")


@pytest.mark.parametrize(
    ("flags", "env", "table", "message"),
    [
        ({"weights": ["nope=1"]}, {}, "", "--weight: unknown weight 'nope'"),
        ({}, {"STRANGLER_TOP": "zero"}, "", "STRANGLER_TOP: expected an integer >= 0, got 'zero'"),
        ({}, {}, "top = 2.5", "[tool.strangler] top: expected an integer >= 0, got 2.5"),
        ({}, {}, "jobs = -1", "[tool.strangler] jobs: expected a positive integer or auto"),
        ({"jobs": "many"}, {}, "", "--jobs: expected a positive integer or auto, got 'many'"),
        ({}, {}, "proposal_size = true", "proposal_size: expected a positive integer, got True"),
        ({}, {"STRANGLER_WEIGHTS": "tests=-1"}, "", "must be a finite number >= 0"),
        ({"weights": ["tests=x"]}, {}, "", "--weight: weight tests must be a finite number"),
        ({}, {"STRANGLER_WEIGHTS": "size=inf"}, "", "weight size must be a finite number"),
        ({}, {}, "weights = { size = 1" + "0" * 400 + " }", "weight size must be a finite"),
        ({}, {"STRANGLER_STRICT": "maybe"}, "", "expected true/false"),
        ({}, {}, "exclude = 3", "expected a list of glob patterns"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_source(
    tmp_path: Path, flags: dict[str, object], env: dict[str, str], table: str, message: str
) -> None:
    root = _project(tmp_path, table)
    with pytest.raises(ConfigError) as info:
        load_config(root, flags, env)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_pyproject_keys_are_ignored_and_bad_toml_is_an_error(tmp_path: Path) -> None:
    assert load_config(_project(tmp_path, "route_ttl = 2"), {}, {}).top == 20
    (tmp_path / "pyproject.toml").write_text("[tool.strangler\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path, {}, {})


def test_nearest_pyproject_above_the_root(tmp_path: Path) -> None:
    _project(tmp_path, "top = 3")
    nested = tmp_path / "src" / "app"
    nested.mkdir(parents=True)
    assert load_config(nested, {}, {}).top == 3


@pytest.mark.parametrize("key", ["cache_dir", "target"])
@pytest.mark.parametrize("value", ["../p2/escaped", "a/../../out", "/tmp/abs", "~/cache"])
def test_paths_from_the_projects_pyproject_must_stay_inside_it(
    tmp_path: Path, key: str, value: str
) -> None:
    """The analysed project's pyproject is data from the code under analysis: it must not
    be able to make the tool write outside the project."""
    root = tmp_path / "p1"
    root.mkdir()
    _project(root, f'{key} = "{value}"')
    with pytest.raises(ConfigError) as info:
        load_config(root, {}, {})
    message = str(info.value)
    assert message.startswith(f"[tool.strangler] {key}: ")
    assert "outside the project" in message
    assert "\n" not in message


def test_a_pyproject_path_through_a_symlink_out_of_the_project_is_refused(
    tmp_path: Path,
) -> None:
    root = tmp_path / "p1"
    (tmp_path / "elsewhere").mkdir()
    root.mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    _project(root, 'cache_dir = "link/cache"')
    with pytest.raises(ConfigError, match="outside the project"):
        load_config(root, {}, {})


def test_pyproject_paths_inside_the_project_are_kept(tmp_path: Path) -> None:
    nested = tmp_path / "src"
    nested.mkdir()
    _project(tmp_path, 'cache_dir = "build/../.cache/strangler"\ntarget = "src/functions"')
    config = load_config(tmp_path, {}, {})
    assert config.cache_path(tmp_path) == tmp_path / "build/../.cache/strangler"
    assert config.target == "src/functions"
    assert load_config(nested, {}, {}).cache_dir == "build/../.cache/strangler"  # under src/


def test_a_flag_or_env_path_may_point_anywhere(tmp_path: Path) -> None:
    root = _project(tmp_path, 'cache_dir = "inside"')
    elsewhere = str(tmp_path / "shared-cache")
    assert load_config(root, {"cache_dir": elsewhere}, {}).cache_path(root) == Path(elsewhere)
    env = {"STRANGLER_CACHE_DIR": "../sibling"}
    assert load_config(root, {}, env).cache_path(root) == root / "../sibling"


def test_display_masks_url_secrets(tmp_path: Path) -> None:
    root = _project(tmp_path, 'broker_url = "redis://:hunter2@cache:6379/0"')
    shown = load_config(root, {}, {"STRANGLER_ROUTE_STORE": "redis://u:pw@h/1"}).display()
    assert "hunter2" not in str(shown)
    assert "pw@" not in str(shown)
    assert shown["broker_url"] == "redis://:****@cache:6379/0"


def test_repr_masks_url_passwords() -> None:
    config = Config(broker_url="redis://:brokerpw@h:6379/0", route_store="redis://u:storepw@h/1")
    shown = repr(config)
    assert "brokerpw" not in shown
    assert "storepw" not in shown
    assert "redis://:****@h:6379/0" in shown


@pytest.mark.parametrize(
    "text",
    ['tool = "x"\n', "[[tool.strangler]]\ntop = 3\n", "[tool]\nstrangler = 5\n"],
)
def test_a_strangler_section_that_is_no_table_is_an_error(tmp_path: Path, text: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[tool.strangler\] is not a table"):
        load_config(tmp_path, {}, {})


@pytest.mark.parametrize("key", ["route_store", "broker_url"])
@pytest.mark.parametrize(
    "value", ['["redis://:hunter2@cache:6379/0"]', '{ url = "redis://:hunter2@cache/0" }']
)
def test_a_mistyped_url_is_refused_without_printing_it(
    tmp_path: Path, key: str, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_project(tmp_path, f"{key} = {value}"), {}, {})
    assert str(info.value).startswith(f"[tool.strangler] {key}: expected a non-empty URL string")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("target", "added"),
    [
        ("functions", "functions/*"),
        ("./src/functions/", "src/functions/*"),
        ("fn[1]", "fn[[]1]/*"),  # a glob character in the folder name is literal
        ("../outside", None),  # extract refuses it: nothing inside the project to skip
        ("/abs/functions", None),
    ],
)
def test_the_extraction_target_is_never_analysed(target: str, added: str | None) -> None:
    config = Config(target=target)
    expected = (*config.exclude, added) if added else config.exclude
    assert config.analysed_exclude == expected
    assert config.fingerprint()["exclude"] == list(expected)  # a new target: a new analysis
