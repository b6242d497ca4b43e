"""Imports go one way: the layer contracts of docs/architecture.md ("Layout"), checked with ast.

Every module of every package is read (imports inside functions and under ``TYPE_CHECKING``
count too); a failure names the file, the line and the forbidden import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: a package may import the packages before it, never one after it.
# scheduler and recordings are one level in the picture, with one direction between them:
# recordings may import scheduler (a part belongs to a session), scheduler never imports recordings.
LAYERS = ("remote_check", "scheduler", "recordings", "media", "web")

# The composition roots may import every layer, and no layer module may import them.
COMPOSITION_ROOTS = (
    "remote_check.cli",  # the command line
    "remote_check.__main__",  # ``python -m remote_check``: the command line again
    "remote_check.migrations",  # Alembic's environment and the joined metadata
)


@dataclass(frozen=True)
class Forbidden:
    """Modules under ``importer`` may not import ``imported`` (or anything under it)."""

    importer: str
    imported: str
    why: str


FORBIDDEN = (
    Forbidden("media", "aiohttp.web", "the media engine knows no HTTP: that is web/rooms"),
    Forbidden("media", "aiohttp_jinja2", "the media engine renders no page"),
    Forbidden("web.pages", "web.api", "pages call services, never API modules"),
    Forbidden("web.rooms", "web.api", "the rooms' edge calls services, never API modules"),
)


@dataclass(frozen=True)
class Violation:
    """One forbidden import: where it is and why it may not be there."""

    path: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.imported} ({self.why})"


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for every import anywhere in the module; ``from a import b``
    gives ``a.b`` too (``b`` may be a module: ``from aiohttp import web``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _rule(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``; ``None`` if it may."""
    top = imported.split(".")[0]
    if any(_under(importer, r) for r in COMPOSITION_ROOTS):
        return None
    if any(_under(imported, r) for r in COMPOSITION_ROOTS):
        return "only the composition roots import the command line or Alembic's environment"
    mine = importer.split(".")[0]
    if top in LAYERS and LAYERS.index(top) > LAYERS.index(mine):
        return f"{mine} may import only {', '.join(LAYERS[: LAYERS.index(mine)]) or 'itself'}"
    for rule in FORBIDDEN:
        if _under(importer, rule.importer) and _under(imported, rule.imported):
            return rule.why
    return None


def violations(root: Path) -> list[Violation]:
    """Every import in the layers' packages under ``root`` that breaks a contract."""
    found: list[Violation] = []
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            module = _module_name(root, path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            seen: set[tuple[int, str]] = set()
            for line, imported in _imports(tree, module, path.name == "__init__.py"):
                why = _rule(module, imported)
                if why is not None and (line, why) not in seen:
                    seen.add((line, why))
                    found.append(Violation(path.relative_to(root).as_posix(), line, imported, why))
    return found


def test_imports_go_one_way() -> None:
    modules = sum(len(list((ROOT / layer).rglob("*.py"))) for layer in LAYERS)
    assert modules > 150, "the walk found the packages"
    broken = violations(ROOT)
    assert not broken, "upward or forbidden imports:\n" + "\n".join(map(str, broken))


def _tree(root: Path, files: dict[str, str]) -> None:
    for layer in LAYERS:
        (root / layer).mkdir(parents=True, exist_ok=True)
        (root / layer / "__init__.py").write_text('"""A layer."""\n')
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_deliberate_upward_import_is_reported(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "remote_check/programme/__init__.py": "",
            "remote_check/programme/scoping.py": (
                "from typing import TYPE_CHECKING\n"
                "\n"
                "if TYPE_CHECKING:\n"
                "    from scheduler.models import CheckSession\n"
                "\n"
                "\n"
                "def load() -> None:\n"
                "    import web.app\n"
            ),
            "scheduler/jobs.py": "from recordings import jobs\n",
            "recordings/commands.py": "def run() -> None:\n    from remote_check.cli import run_db\n",
            "media/room.py": "from aiohttp import web\nimport aiohttp_jinja2\n",
            "web/pages/audit.py": "from ..api.audit import search_audit\n",
            "web/rooms/views.py": "from web.api.sessions import room_window\n",
            # allowed: downward imports, the composition roots, pages using web helpers
            "remote_check/cli.py": "import web.app\nfrom recordings.commands import recordings\n",
            "remote_check/migrations/models.py": "from recordings.models import Still\n",
            "recordings/jobs.py": "from scheduler.models import CheckSession\n",
            "media/recorder.py": "from recordings.writer import Writer\nfrom aiohttp import ClientSession\n",
            "web/api/audit.py": "from remote_check.audit.service import search_audit\n",
            "web/pages/common.py": "from web.forms import validation_error\n",
        },
    )
    found = violations(tmp_path)
    assert {(v.path, v.line, v.imported) for v in found} == {
        ("remote_check/programme/scoping.py", 4, "scheduler.models"),
        ("remote_check/programme/scoping.py", 8, "web.app"),
        ("scheduler/jobs.py", 1, "recordings"),
        ("recordings/commands.py", 2, "remote_check.cli"),
        ("media/room.py", 1, "aiohttp.web"),
        ("media/room.py", 2, "aiohttp_jinja2"),
        ("web/pages/audit.py", 1, "web.api.audit"),
        ("web/rooms/views.py", 1, "web.api.sessions"),
    }
    assert "remote_check/programme/scoping.py:8: imports web.app (remote_check may import only itself)" in {
        str(v) for v in found
    }
