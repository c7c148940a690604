"""Bad input never raises: every file yields ModuleFacts or a Diagnostic (issue 3 item 7)."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from analyzers.facts import ArgKind, Diagnostic, ModuleFacts
from analyzers.modernise import nesting, second_chance
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


def _analyse_in_a_child(source: str) -> tuple[int, str]:
    """Exit status and output of analysing ``source`` in a child process: a native stack
    overflow kills the process (SIGSEGV), it raises nothing to catch here."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from analyzers.parse import facts_from_source\n"
        "r = facts_from_source(sys.stdin.read(), module='m', path='m.py')\n"
        "print(getattr(r, 'reason', 'facts'), getattr(r, 'line', None))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=source,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[3],
    )
    return done.returncode, done.stdout.strip()


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "[" * 3000 + "]" * 3000 + "\n",
        "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n",
        "x = " + "{1:" * 2000 + "1" + "}" * 2000 + "\n",
    ],
)
def test_brackets_too_deep_for_any_python_are_a_diagnostic_not_a_crash(source: str) -> None:
    # ast: "too many nested parentheses" (CPython's limit of 200 in every version); libcst
    # given it overflowed its native stack: SIGSEGV
    status, out = _analyse_in_a_child(source)
    assert status == 0, out
    assert out == "nesting too deep for the parser: too many nested parentheses 1"


@pytest.mark.parametrize("chain", ["-", "not ", "lambda: "])
def test_newer_syntax_nested_too_deep_for_libcst_is_a_diagnostic_not_a_crash(chain: str) -> None:
    # ``type`` sends the file to libcst, whose parser recursed past its stack (8 MB:
    # ~8,100 ``-``, ~3,400 ``lambda:``)
    status, out = _analyse_in_a_child("type X = int\nx = " + chain * 10_000 + "1\n")
    assert status == 0, out
    assert out.startswith("nesting too deep for the parser"), out


def test_libcst_gets_a_deep_file_it_can_read_on_its_own_big_stack() -> None:
    # 1,270 nested brackets overflow 8 MB; 199 of them, each with a ``-``, are readable
    source = "type X = int\nx = " + "(-" * 199 + "f(1)" + ")" * 199 + "\n"
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, ModuleFacts), result
    assert [(c.text, c.loc.line) for c in result.calls] == [("f", 2)]


@pytest.mark.parametrize("chain", ["-", "not ", "lambda: ", "1 if x else "])
def test_a_chain_too_deep_for_cpythons_parser_says_so(chain: str) -> None:
    # ast.parse raises a bare MemoryError ("Parser stack overflowed" in 3.12+)
    result = facts_from_source("x = " + chain * 100_000 + "1\n", module="m", path="m.py")
    assert isinstance(result, Diagnostic)
    assert result.reason.startswith("nesting too deep for the parser"), result.reason


def test_pep758_except_star_without_brackets_is_read() -> None:
    source = "try:\n    pass\nexcept* ValueError, TypeError:\n    handle()\n"
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, ModuleFacts), result
    assert [(c.text, c.loc.line) for c in result.calls] == [("handle", 4)]


@pytest.mark.parametrize("prefix", ["t", "T", "rt", "tr", "Tr", "TR", "tR", "Rt"])
def test_every_template_string_prefix_is_read(prefix: str) -> None:
    text = "\\d" if "r" in prefix.lower() else "a"  # ``\d``: a raw string's (no warning)
    source = f'x = 1\ny = {prefix}"{text}{{helper(x)}}"\n'
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, ModuleFacts), result
    assert [(c.text, c.loc.line) for c in result.calls] == [("helper", 2)]


def test_concatenated_template_strings_keep_their_calls_and_lines() -> None:
    # libcst 1.9 reads neither ``t"" t""`` nor a ``tr`` prefix: they are made f-strings first
    source = 'n = 1\nx = (t"{one(n)}"\n     t"!" tr"{two(n)}")\ny = "t" + t"{three(n)!r:>{w(n)}}"\n'
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, ModuleFacts), result
    assert sorted((c.loc.line, c.text) for c in result.calls) == [
        (2, "one"),
        (3, "two"),
        (4, "three"),
        (4, "w"),
    ]


@pytest.mark.parametrize("escape", ["\\N{NOSUCHNAME}", "\\x4", "\\u12"])
def test_a_bad_unicode_escape_is_a_syntax_error_not_an_encoding(escape: str) -> None:
    source = f'x = 1\ny = "{escape}"\n'.encode()
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, Diagnostic)
    assert result.reason.startswith("syntax error: (unicode error) 'unicodeescape'"), result
    assert result.line == 2


@pytest.mark.parametrize(
    ("source", "reason", "line"),
    [
        (b'x = 1\n"""doc\n\xe9\n"""\n', "not valid UTF-8 (and no PEP 263 coding cookie)", 3),
        (b"# coding: ascii\nx = 1\ny = '\xe9'\n", "not valid ascii (as its PEP 263", 3),
        (b"# coding: cp1252\n\nx = '\x81'\n", "not valid cp1252 (as its PEP 263", 3),
    ],
)
def test_an_undecodable_byte_is_reported_at_its_line(source: bytes, reason: str, line: int) -> None:
    # ast gives the line the string holding it ends on, or 0 past a coding cookie
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, Diagnostic)
    assert result.reason.startswith(reason), result
    assert result.line == line


def test_elifs_add_up_per_chain_not_per_file() -> None:
    """libcst nests each ``elif`` in the one before, so a chain's length is depth; a
    thousand short chains are not (the scan once added up every ``elif`` of the file
    and refused this module, dropping it from the analysis)."""
    function = "def f{n}(x):\n    if x:\n        pass\n" + "    elif x:\n        pass\n" * 3
    source = "type X = int\n" + "".join(function.format(n=n) for n in range(1_001))
    assert nesting(source) < 20
    result = facts_from_source(source, module="m", path="m.py")
    assert isinstance(result, ModuleFacts), result
    plain = nesting("if a:\n    pass\n")
    nested = "if a:\n    if b:\n        pass\n" + "    elif b:\n        pass\n" * 2
    assert nesting(nested) == plain + 2
    chained = nested + "elif a:\n    pass\n" * 3 + "else:\n    pass\n"
    assert nesting(chained) == plain + 3  # the outer chain; the inner one ended before
    long_chain = "if a:\n    pass\n" + "elif a:\n    pass\n" * 3_500
    assert nesting(long_chain) == plain + 3_500
