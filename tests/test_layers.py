"""The layers are kept by tools, not by memory (docs/architecture.md): `lint-imports` checks the
contracts in pyproject.toml; these tests check what it cannot — that every app is placed in the
layers, and that no app imports another inside a function without saying why."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "smsportal"


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


# Packages that are no app: Django reads them by a setting, and they import nothing of the portal.
NOT_APPS = {"formats"}  # FORMAT_MODULE_PATH: dates and numbers per language


def _apps() -> set[str]:
    return {path.parent.name for path in PACKAGE.glob("*/__init__.py")} - NOT_APPS


def test_every_app_has_its_place_in_the_layers():
    placed = {
        module.strip().removeprefix("smsportal.")
        for layer in _contracts()["layers"]["layers"]
        for module in layer.split("|")
    }

    missing = sorted(_apps() - placed)
    assert not missing, (
        f"Place {', '.join(missing)} in the layers contract of pyproject.toml "
        "([[tool.importlinter.contracts]] id = 'layers'): on the line above every app it imports "
        "and below every app that imports it; `lint-imports` then checks the rest."
    )
    assert placed <= _apps()


def _app_of(module: str) -> str | None:
    """The app an absolute module path names (relative imports never leave their app here)."""
    parts = module.split(".")
    if parts[0] == "smsportal" and len(parts) > 1:
        return parts[1]
    return None


def _imports_inside_functions(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield node, node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield node, alias.name


def test_no_app_imports_another_inside_a_function_without_saying_why():
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        own = path.relative_to(PACKAGE).parts[0]
        lines = path.read_text().splitlines()
        for node, module in _imports_inside_functions(path):
            app = _app_of(module)
            if app is None or app == own:
                continue
            # The reason is a comment on the import or on the three lines above it.
            nearby = lines[max(0, node.lineno - 4) : node.end_lineno]
            if not any("#" in line for line in nearby):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert not unexplained, "\n".join(unexplained)
