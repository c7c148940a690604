"""Use cases behind ``strangler extract`` and ``strangler retire``: plans in, changes out.

Nothing here writes a file or prints: each function returns the list of
:class:`~strangler.codemods.Change` values (or a refusal with its reasons) that the
CLI shows as a diff or applies, all files or none, with :func:`strangler.codemods.apply`.
The monolith's code is read as text and transformed with libcst; it is never imported.
"""

from __future__ import annotations

import functools
import keyword
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from libcst.codemod import Codemod

from analyzers.analysis import Analysis, find_capability, why_not_found
from analyzers.collect import Collection, CollectOptions, NothingToAnalyse, collect
from analyzers.facts import ModuleFacts
from shims.config import load_settings, mask_url
from shims.routing import Mode, Route
from shims.stores import StoreConfigError, StoreUnavailable, open_store
from strangler.analysis import BadInput, run_analysis
from strangler.codemods import (
    AddRoutedDecorator,
    ApplyError,
    ArgSpec,
    Change,
    EntryPointSpec,
    GenerationFailure,
    HandlerPackageSpec,
    ModuleSource,
    RemoveRouted,
    RetireMonolithPath,
    RoutedSpec,
    SourceDecodeError,
    StaleFileError,
    Status,
    apply,
    blocked_paths,
    dirty_files,
    file_changes,
    file_removals,
    generate_handler_package,
    read_source,
    retired_functions,
    run_codemod,
    run_over_files,
)
from strangler.config import Config
from strangler.django_settings import AddShimSettings
from strangler.plan import ExtractionPlan, PlannedEntry, package_name, plan_extraction

__all__ = [
    "Invalid",
    "Outcome",
    "Project",
    "Refused",
    "Written",
    "celery_app_ref",
    "extraction_changes",
    "load_project",
    "plan_for",
    "retire_gate",
    "retirement_changes",
    "revert_changes",
    "target_conflict",
    "target_package",
    "unknown_feature",
    "write_changes",
]


@dataclass(frozen=True, slots=True)
class Project:
    """The monolith as the planner sees it: its analysis and its linked facts."""

    root: Path
    analysis: Analysis
    modules: tuple[ModuleFacts, ...]

    def module(self, name: str) -> ModuleFacts | None:
        return next((m for m in self.modules if m.module == name), None)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command would change (``changes``) and what it wants the user to know."""

    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing can be written: one line per reason."""

    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Invalid:
    """Bad input (a route store URL that cannot be used): one line, nothing done."""

    reason: str


@dataclass(frozen=True, slots=True)
class Written:
    """The files written, all of them (``apply`` writes every file or none)."""

    paths: tuple[str, ...]


def load_project(root: Path, config: Config) -> Project:
    """Analysis (cached) plus the linked facts (cached per file). Raises BadInput."""
    analysis = run_analysis(root, config).analysis
    options = CollectOptions(
        jobs=config.jobs,
        cache_dir=config.cache_path(root.resolve()),
        use_cache=config.cache,
        excludes=config.analysed_exclude,
    )
    try:
        collection: Collection = collect(root.resolve(), options)
    except NothingToAnalyse as exc:
        raise BadInput(str(exc)) from None
    return Project(root.resolve(), analysis, collection.modules)


def target_package(target: str) -> str:
    """``functions`` or ``src/functions`` (a folder) -> the dotted package name.

    The package is written under the project root and imported from it, so an absolute
    folder or one climbing out with ``..`` is refused rather than silently re-rooted
    (``/tmp/x`` would otherwise become the package ``tmp.x`` inside the project).
    """
    text = target.replace("\\", "/")
    if text.startswith("/") or re.match(r"[A-Za-z]:", text) or ".." in text.split("/"):
        raise BadInput(f"--target {target!r} must be a relative folder inside the project")
    parts = [p for p in text.strip("/").split("/") if p not in ("", ".")]
    if not parts or not all(p.isidentifier() for p in parts):
        raise BadInput(f"--target {target!r} is not a folder name usable as a Python package")
    if reserved := [p for p in parts if keyword.iskeyword(p)]:
        raise BadInput(f"--target {target!r}: {reserved[0]!r} is a Python keyword, not importable")
    return ".".join(parts)


_STRANGLER_INIT = "extracted from the monolith by strangler"


def target_conflict(root: Path, package: str) -> str | None:
    """Why the target package ``package`` (dotted) would take the place of the project's
    own code, if it would: a folder next to a module of that name shadows it (a package
    wins the import), and the project's own package is not strangler's to fill. The
    target folder strangler made before (its ``__init__.py`` says so) is fine."""
    parts = package.split(".")
    for depth in range(1, len(parts) + 1):
        relative = "/".join(parts[:depth])
        if (root / f"{relative}.py").is_file():
            dotted = ".".join(parts[:depth])
            return f"--target {relative!r} would shadow the project's module {dotted}"
    init = root / "/".join(parts) / "__init__.py"
    if init.is_file() and _STRANGLER_INIT not in (read_source(init) or ""):
        return f"--target {package.replace('.', '/')!r} is the project's own package {package}"
    return None


def celery_app_ref(value: str) -> str:
    """``--celery-app``: ``dotted.module:attr``, identifiers only (it is written into
    the generated ``celery.py`` as an import, so anything else would be code)."""
    module, sep, attr = value.partition(":")
    names = [*module.split("."), attr]
    if not sep or not all(n.isidentifier() and not keyword.iskeyword(n) for n in names):
        raise BadInput(f"--celery-app {value!r} is not module:attr (e.g. shop.celery:app)")
    return value


def plan_for(project: Project, capability: str, target: str) -> ExtractionPlan:
    found = find_capability(project.analysis, capability)
    if found is None:
        reason = why_not_found(project.analysis, capability)
        raise BadInput(f"{reason} (see `strangler analyze`)")
    return plan_extraction(found, project.modules, target=target_package(target))


def extraction_changes(
    project: Project, plan: ExtractionPlan, *, celery_app: str | None = None
) -> Outcome | Refused:
    """The new handler package plus the ``@routed`` decorators, as changes."""
    if plan.unextractable:  # no --force makes these work
        return Refused(plan.unextractable)
    retired = _retired(project, plan)
    if retired:
        return _already_retired(project, plan, retired)
    spec = _package_spec(project, plan, celery_app)
    generated = generate_handler_package(spec)
    if isinstance(generated, GenerationFailure):
        return Refused(generated.reasons)
    batch = run_over_files(project.root, _decorators(plan, project))
    if not batch.ok:
        return Refused(batch.failures)
    unrouted = _unrouted(project, plan, {c.path: c.after for c in batch.changes})
    if unrouted:  # the codemod refused a target (another feature's @routed, async def...)
        return Refused((*batch.notes, *unrouted))
    blocked = blocked_paths(project.root, generated.files)
    if blocked:  # e.g. a folder named handlers.py: nothing can be written over it
        return Refused(tuple(blocked))
    settings = _settings_changes(project, remove=False)
    package = _with_django_setup(generated.files, plan.package, _django_settings(project.root))
    files = file_changes(
        project.root,
        _with_newline(package, _source_newline(project, plan)),
        create_only=generated.create_only,
    )
    return _parse_checked(
        Outcome(
            (*files, *batch.changes, *settings.changes),
            (*generated.notes, *settings.notes),
        )
    )


def revert_changes(project: Project, plan: ExtractionPlan) -> Outcome | Refused:
    """Remove the decorators and delete the generated package (``--revert``).

    The target folder's shared ``__init__.py`` stays; folders left empty go. Refused
    once an entry point is retired: the package then holds the only copy of its code.
    """
    retired = _retired(project, plan)
    if retired:
        return Refused(
            tuple(
                f"{name} is retired: the monolith's body is now the dispatch_only call and "
                f"{plan.package} holds the only copy of its code, so --revert would lose "
                "it; restore the body first (e.g. revert the retire commit in git)"
                for name in retired
            )
        )
    edits = _chain(
        project,
        {
            path: [RemoveRouted(e.feature) for e in entries]
            for path, entries in _by_path(project, plan).items()
        },
    )
    if isinstance(edits, Refused):
        return edits
    base = project.root / plan.package.replace(".", "/")
    generated = sorted(
        p.relative_to(project.root).as_posix()
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    last = _last_init(project.root, base)
    removals = file_removals(project.root, [*generated, *last])
    settings = _settings_changes(project, remove=True) if last else Outcome(())
    return _parse_checked(Outcome((*removals, *edits, *settings.changes)))


def _retired(project: Project, plan: ExtractionPlan) -> list[str]:
    """The entry points (qualnames) whose monolith body ``retire`` already replaced."""
    found: list[str] = []
    for path, entries in _by_path(project, plan).items():
        code = read_source(project.root / path) or ""
        by_name = {e.name: e for e in entries}
        names = retired_functions(code, {e.name: e.feature for e in entries})
        found += [by_name[name].qualname for name in names]
    return found


def _already_retired(
    project: Project, plan: ExtractionPlan, retired: Sequence[str]
) -> Outcome | Refused:
    """Extracting a retired capability again: its handler package is all there is of the
    code (regenerating it from the dispatch-only body would make the handler re-publish
    its own event), so nothing to do when the package is there, refused when it is not."""
    handlers = project.root / plan.package.replace(".", "/") / "handlers.py"
    names = ", ".join(retired)
    if handlers.is_file():
        return Outcome((), (f"{names}: already extracted and retired; nothing to change",))
    return Refused(
        (
            f"{names} is retired (its body is the dispatch_only call) and {plan.package} "
            "is missing: the monolith no longer has the code to extract; restore the "
            "body from version control first",
        )
    )


def _last_init(root: Path, package: Path) -> list[str]:
    """The target folder's ``__init__.py`` when this package is all it holds besides it."""
    folder = package.parent
    others = [
        p for p in folder.glob("*") if p.name not in {"__init__.py", "__pycache__", package.name}
    ]
    init = folder / "__init__.py"
    if others or not init.is_file() or not package.is_dir():
        return []
    return [init.relative_to(root).as_posix()]


def retirement_changes(project: Project, features: Sequence[str]) -> Outcome | Refused:
    """Replace each entry point routed as one of ``features`` by its dispatch-only call.

    The files are those whose text names a feature as a string literal (the
    ``@routed`` decorator, or the dispatch-only call of an entry point already
    retired); the codemod decides what, in each, is routed as that feature.
    """
    wanted = sorted(set(features))
    paths = [m.path for m in project.modules if _names_feature(project.root / m.path, wanted)]
    if not paths:
        return Refused((f"no entry point is routed as {', '.join(wanted)}",))
    edits = _chain(project, {path: [RetireMonolithPath(f) for f in wanted] for path in paths})
    return edits if isinstance(edits, Refused) else _parse_checked(Outcome(tuple(edits)))


def unknown_feature(project: Project, feature: str) -> Invalid | None:
    """``Invalid`` when no module of ``project`` names ``feature`` (as ``@routed`` or an
    already retired dispatch-only call does): a typo is bad input, told apart from a
    known feature whose route is not at ``function`` yet (refused by the gate)."""
    if any(_names_feature(project.root / m.path, [feature]) for m in project.modules):
        return None
    return Invalid(f"unknown feature {feature!r}: no entry point is routed as it")


def retire_gate(feature: str, store_url: str | None) -> Invalid | Refused | None:
    """``None`` when ``feature`` may be retired: its route is ``function`` in the store
    (``store_url``, else the shim's settings). Retiring removes the monolith path, so it
    waits until the function has carried all traffic; an unreachable store refuses."""
    if store_url is not None and not store_url.strip():
        return Invalid("--store is empty: give a route store URL or leave the option out")
    try:
        settings = load_settings({"route_store_url": store_url} if store_url else None)
        store = open_store(settings.route_store_url, timeout=5.0)
    except (StoreConfigError, ValueError) as exc:
        return Invalid(str(exc))
    except StoreUnavailable as exc:
        return Refused((str(exc),))
    try:
        route = store.get(feature)
    except StoreUnavailable as exc:
        return Refused((str(exc),))
    finally:
        store.close()
    if route is not None and route.mode is Mode.FUNCTION:
        return None
    return Refused(
        (
            f"{feature} routes to {_mode(route)} in {mask_url(settings.route_store_url)}; "
            f"retire only after `strangler route set {feature} function` has carried all "
            "traffic",
        )
    )


def _mode(route: Route | None) -> str:
    if route is None:
        return "unset (monolith)"
    return f"canary {route.percent}%" if route.mode is Mode.CANARY else route.mode.value


def write_changes(root: Path, changes: Sequence[Change], *, force: bool) -> Written | Refused:
    """Write ``changes`` under ``root``, every file or none.

    Refused when a file it would replace has uncommitted changes (git) unless
    ``force``: the user's own edits would be mixed with the codemod's, or lost. Outside
    a git work tree there is nothing to compare with, and it proceeds.
    """
    if not force:
        dirty = dirty_files(root, [c.path for c in changes if c.before is not None])
        if dirty:
            return Refused(
                (f"uncommitted changes in {', '.join(dirty)}; commit them or use --force",)
            )
    try:
        return Written(tuple(apply(changes, root)))
    except (StaleFileError, ApplyError) as exc:
        return Refused((str(exc),))


def _names_feature(path: Path, features: Sequence[str]) -> bool:
    try:
        text = read_source(path) or ""
    except SourceDecodeError:  # not readable as Python, so routed as nothing
        return False
    return any(_names(text, f) for f in features)


# --------------------------------------------------------------------------- helpers


def _parse_checked(outcome: Outcome) -> Outcome | Refused:
    """Refuse the whole outcome when a Python file it writes would not compile: a
    codemod or generator bug must never reach the monolith (nothing is written)."""
    problems = [
        problem
        for change in outcome.changes
        if change.path.endswith(".py") and change.after is not None and change.kind != "unchanged"
        if (problem := _compile_problem(change.path, change.after))
    ]
    return Refused(tuple(problems)) if problems else outcome


def _compile_problem(path: str, code: str) -> str | None:
    with warnings.catch_warnings():  # the moved code's own SyntaxWarnings are not ours
        warnings.simplefilter("ignore")
        try:
            compile(code.removeprefix("\ufeff"), path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            return f"{path}{f':{line}' if line else ''}: generated code does not parse ({exc})"
    return None


def _chain(project: Project, codemods: Mapping[str, Sequence[Codemod]]) -> list[Change] | Refused:
    """Run several codemods one after the other over each file; the changed files."""
    changes: list[Change] = []
    for path, chain in codemods.items():
        code = read_source(project.root / path)
        if code is None:
            return Refused((f"{path}: no such file",))
        after = code
        for codemod in chain:
            result = run_codemod(codemod, after, filename=path)
            if result.status is Status.FAILED:
                return Refused((f"{path}: {result.error}",))
            after = result.code
        if after != code:
            changes.append(Change(path, code, after))
    return changes


def _unrouted(project: Project, plan: ExtractionPlan, after: Mapping[str, str | None]) -> list[str]:
    """Entry points whose module would not name their feature once the changes apply."""
    missing = []
    for path, entries in _by_path(project, plan).items():
        text = after.get(path) or read_source(project.root / path) or ""
        missing += [
            f"{e.qualname}: not routed as {e.feature}"
            for e in entries
            if not _names(text, e.feature)
        ]
    return missing


def _names(text: str, feature: str) -> bool:
    return f'"{feature}"' in text or f"'{feature}'" in text


def _by_path(project: Project, plan: ExtractionPlan) -> dict[str, list[PlannedEntry]]:
    out: dict[str, list[PlannedEntry]] = {}
    for entry in plan.entries:
        facts = project.module(entry.module)
        if facts is not None:
            out.setdefault(facts.path, []).append(entry)
    return out


def _decorators(plan: ExtractionPlan, project: Project) -> Mapping[str, Callable[[], Codemod]]:
    codemods: dict[str, Callable[[], Codemod]] = {}
    for path, entries in _by_path(project, plan).items():
        specs = {
            e.name: RoutedSpec(e.feature, task=e.task, style=e.style, key_expr=None)
            for e in entries
        }
        codemods[path] = functools.partial(AddRoutedDecorator, specs)
    return codemods


def _package_spec(
    project: Project, plan: ExtractionPlan, celery_app: str | None
) -> HandlerPackageSpec:
    names = {*plan.modules, *(e.module for e in plan.entries)}
    sources = []
    for name in sorted(names):
        facts = project.module(name)
        code = read_source(project.root / facts.path) if facts else None
        if facts is not None and code is not None:
            sources.append(ModuleSource(name, code, is_package=facts.is_package))
    entries = tuple(
        EntryPointSpec(
            e.module,
            e.name,
            e.feature,
            style=e.style,
            args=tuple(ArgSpec(a.name, a.kind, a.model, a.sample) for a in e.arguments),
            effects=e.effects,
        )
        for e in plan.entries
    )
    target, _, capability = plan.package.rpartition(".")
    assert capability == package_name(plan.capability)
    return HandlerPackageSpec(
        capability=capability,
        entry_points=entries,
        modules=tuple(sources),
        moves=plan.moves,
        copies=plan.copies,
        celery_app=celery_app,
        target=target,
        first_party=tuple(sorted({m.module.split(".")[0] for m in project.modules})),
        test_fixtures=_fixtures(project),
    )


_SETTINGS_RE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")


def _django_settings(root: Path) -> str | None:
    """The settings module ``manage.py`` names (read as text, never run), if any."""
    match = _SETTINGS_RE.search(read_source(root / "manage.py") or "")
    return match.group(1) if match else None


def _with_django_setup(
    files: Mapping[str, str], package: str, settings: str | None
) -> dict[str, str]:
    """The worker imports the handlers, which import the monolith's models: in a Django
    project its ``celery.py`` configures Django before the app loads the tasks (what
    a Django project's own ``celery.py`` does)."""
    out = dict(files)
    path = package.replace(".", "/") + "/celery.py"
    text = out.get(path)
    marker = "from shims.celery import build_app\n"
    if settings is None or text is None or marker not in text:
        return out
    setup = (
        f'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings}")\n'
        "django.setup()  # the handlers import the monolith's models\n\n"
    )
    text = text.replace(marker, "import django\n" + marker, 1)
    head, sep, rest = text.partition('"""\n\n')  # after the module docstring
    head2, sep2, body = rest.partition("\napp = ")
    out[path] = f"{head}{sep}import os\n\n{head2}\n{setup}app = {body}" if sep2 else text
    return out


def _source_newline(project: Project, plan: ExtractionPlan) -> str:
    """The line ending of the (first) entry point's module: the generated files use it."""
    for path in _by_path(project, plan):
        found = re.search(r"\r\n|\r|\n", read_source(project.root / path) or "")
        if found:
            return found.group()
    return "\n"


def _with_newline(files: Mapping[str, str], newline: str) -> dict[str, str]:
    """The generated files (written with ``\\n``) with the monolith's line ending."""
    if newline == "\n":
        return dict(files)
    return {path: text.replace("\n", newline) for path, text in files.items()}


def _settings_changes(project: Project, *, remove: bool) -> Outcome:
    """The shim's app and middleware in the settings module ``manage.py`` names: added
    with the first extraction, taken out when ``--revert`` removes the last one."""
    settings = _django_settings(project.root)
    if settings is None:
        return Outcome(())
    base = settings.replace(".", "/")
    for path in (f"{base}.py", f"{base}/__init__.py"):
        code = read_source(project.root / path)
        if code is not None:
            result = run_codemod(AddShimSettings(remove=remove), code, filename=path)
            notes = tuple(f"{path}: {note}" for note in result.notes)
            changed = result.status is Status.CHANGED
            return Outcome((Change(path, code, result.code),) if changed else (), notes)
    return Outcome((), (f"{settings}: no such module; add the shim's app and middleware",))


def _fixtures(project: Project) -> tuple[str, ...]:
    """Every fixture file the monolith ships (``<app>/fixtures/*.json``), by name, so the
    generated handler tests find rows to feed the handlers."""
    found = sorted(p.stem for p in project.root.glob("*/fixtures/*.json"))
    return tuple(dict.fromkeys(found))
