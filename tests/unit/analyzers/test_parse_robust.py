"""Bad input never raises: every file yields ModuleFacts or a Diagnostic (issue 3 item 7)."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from analyzers.facts import ArgKind, Diagnostic, ModuleFacts
from analyzers.modernise import second_chance
from analyzers.parse import MAX_BYTES, facts_from_source

BAD = Path(__file__).parents[2] / "data" / "bad"

EXPECTED_DIAGNOSTICS = {
    "binary.py": "binary file",
    "deep_blocks.py": "too many levels of indentation",
    "deep_nesting.py": "too many nested parentheses",
    "deep_call_chain.py": "nesting too deep",
    "long_binop.py": "nesting too deep",
    "latin1_no_cookie.py": "not valid UTF-8",
    "py2_print.py": "Python 2",
    "syntax_error.py": "syntax error",
}


def analyse(path: Path) -> ModuleFacts | Diagnostic:
    return facts_from_source(path.read_bytes(), module=path.stem, path=path.name)


@pytest.mark.parametrize("name", sorted(EXPECTED_DIAGNOSTICS))
def test_bad_file_is_a_diagnostic_with_its_reason(name: str) -> None:
    result = analyse(BAD / name)
    assert isinstance(result, Diagnostic)
    assert result.path == name
    assert EXPECTED_DIAGNOSTICS[name] in result.reason


def test_every_file_of_the_bad_corpus_is_accounted_for() -> None:
    names = {p.name for p in BAD.glob("*.py")}
    good = {
        "latin1_with_cookie.py",
        "utf8_bom.py",
        "py312_generics.py",
        "py312_fstrings.py",
        "py314_syntax.py",
    }
    assert names == set(EXPECTED_DIAGNOSTICS) | good


def test_syntax_errors_carry_their_line() -> None:
    result = analyse(BAD / "py2_print.py")
    assert isinstance(result, Diagnostic)
    assert result.line == 1


def test_pep263_coding_cookie_is_honoured() -> None:
    result = analyse(BAD / "latin1_with_cookie.py")
    assert isinstance(result, ModuleFacts)
    assert [d.qualname for d in result.definitions] == ["latin1_with_cookie.f"]


def test_utf8_bom_is_fine() -> None:
    assert isinstance(analyse(BAD / "utf8_bom.py"), ModuleFacts)


def test_python_312_syntax_gets_a_second_chance_through_libcst() -> None:
    result = analyse(BAD / "py312_generics.py")
    assert isinstance(result, ModuleFacts)
    defs = {d.qualname: d.loc.line for d in result.definitions}
    assert defs == {
        "py312_generics.first": 3,
        "py312_generics.Box": 6,
        "py312_generics.Box.get": 7,
        "py312_generics.Box.value": 10,
        "py312_generics.helper": 13,
    }
    calls = {(c.caller, c.callee, c.loc.line) for c in result.calls}
    assert ("py312_generics.first", "py312_generics.helper", 4) in calls
    assert [v.qualname for v in result.variables] == ["py312_generics.Vector"]


def test_python_314_syntax_gets_a_second_chance_through_libcst() -> None:
    result = analyse(BAD / "py314_syntax.py")
    assert isinstance(result, ModuleFacts)
    assert [(c.text, c.loc.line) for c in result.calls] == [("handle", 7)]


def test_python_312_fstrings_keep_the_calls_inside_their_replacement_fields() -> None:
    # PEP 701: quotes reused inside replacement fields, backslashes, comments, nesting,
    # fields over several lines; ast 3.11 rejects the whole file ("unmatched '['")
    result = analyse(BAD / "py312_fstrings.py")
    assert isinstance(result, ModuleFacts), result
    calls = sorted((c.loc.line, c.text) for c in result.calls)
    assert calls == [
        (3, "'\\n'.join"),
        (4, "helper"),
        (8, "helper"),
        (11, "'\\t'.join"),
        (11, "helper"),
        (12, "helper"),
        (13, "helper"),
        (15, "helper"),
    ]
    assert {c.callee for c in result.calls if c.text == "helper"} == {"py312_fstrings.helper"}
    inner = next(c for c in result.calls if c.loc.line == 8)
    assert [a.text for a in inner.args] == ["d[]"]
    # still f-strings, not some other expression: each local is a JSON-able literal
    final = next(c for c in result.calls if c.loc.line == 15)
    assert [a.kind for a in final.args] == [ArgKind.JSON] * 8
    assert [d.qualname for d in result.definitions] == [
        "py312_fstrings.f",
        "py312_fstrings.helper",
    ]


@pytest.mark.parametrize(
    ("pep701", "older"),
    [
        ('f"a{{b}}{d["k"]!r:>{w}}c"', "f\"a{{b}}{d['k']!r:>{w}}c\""),
        ('rf"\\d{d["k"]}\\w"', "rf\"\\d{d['k']}\\w\""),
        ('f"""say "{d["k"]}" """', "f'''say \"{d[\"k\"]}\" '''"),
        ('f"x\\\\{d["k"]}"', "f\"x\\\\{d['k']}\""),
        ('"pre" f"{d["k"]}" "post"', '"pre" f"{d[\'k\']}" "post"'),
        ('f"{a, d["k"]}"', "f\"{a, d['k']}\""),
        ('f"{\n  d["k"]  # c\n , 1}"', "f'''{\n  d[\"k\"]\n , 1}'''"),
        ('t"{d["k"]}"', "f\"{d['k']}\""),
    ],
)
def test_pep701_fstring_reads_as_its_older_spelling(pep701: str, older: str) -> None:
    # the marker call is turned back into the very JoinedStr, lines included (columns
    # inside it shift by a few characters)
    result = second_chance(f"type T = int\nx = {pep701}\n")
    assert result is not None
    expected = ast.parse(f"T = int\nx = {older}\n")
    assert ast.dump(result.body[1]) == ast.dump(expected.body[1])
    assert _lines(result.body[1]) == _lines(expected.body[1])


def _lines(node: ast.AST) -> list[tuple[str, int, int]]:
    return [
        (type(n).__name__, n.lineno, n.end_lineno or 0)
        for n in ast.walk(node)
        if isinstance(n, ast.expr | ast.stmt)
    ]


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ('x = 1\ny = f"{d["k"}"\n', 2),  # bracket never closed
        ('x = 1\ny = f"{x!z}"\n', 2),  # no such conversion
        ('x = 1\ny = f"{}"\n', 2),  # empty replacement field
    ],
)
def test_invalid_fstrings_stay_a_diagnostic(source: str, line: int) -> None:
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, Diagnostic)
    assert result.reason.startswith("syntax error")
    assert result.line == line


def test_a_long_valid_chain_is_analysed_not_a_diagnostic() -> None:
    """``ast`` parses 2,000 summed calls; the walker must not give up at depth 1000."""
    import sys

    limit = sys.getrecursionlimit()
    source = "def f(a):\n    return " + " + ".join(["g(a)"] * 2000) + "\n"
    facts = facts_from_source(source, module="m", path="m.py")
    assert isinstance(facts, ModuleFacts), facts
    assert len(facts.calls) == 2000
    assert {c.text for c in facts.calls} == {"g"}
    assert sys.getrecursionlimit() == limit  # raised for that walk only


def test_oversized_file_is_skipped_unparsed() -> None:
    result = facts_from_source(b"x = 1\n" * (MAX_BYTES // 6 + 1), module="big", path="big.py")
    assert isinstance(result, Diagnostic)
    assert "larger than 5 MB" in result.reason


def test_str_source_works_like_bytes() -> None:
    result = facts_from_source("def f():\n    g()\n", module="m", path="m.py")
    assert isinstance(result, ModuleFacts)
    assert result.lines == 3


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=hypothesmith.from_grammar())
def test_generated_modules_never_crash(source: str) -> None:
    with warnings.catch_warnings():
        # compiling odd generated code warns (e.g. "invalid escape sequence"): not ours
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        result = facts_from_source(source, module="gen", path="gen.py")
    assert isinstance(result, ModuleFacts | Diagnostic)
    if isinstance(result, Diagnostic):
        assert not result.reason.startswith("internal error"), result.reason
