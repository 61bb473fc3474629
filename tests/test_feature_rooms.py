"""The layout holds: each feature is one package that describes itself, handlers never reach the whole
store, feature tables are declared by their feature, modules stay small, and every feature has tests."""

from __future__ import annotations

import ast
import importlib

from handlers import FEATURE_PACKAGES, FEATURES
from storage.base import Base
from storage.tables import GROUPS
from tests.conftest import ROOT

CORE_DIRS = ["bot", "handlers", "rules", "storage", "scheduler"]
MAX_LINES = 400
SHARED_TABLES = {"groups", "members", "events", "actions", "job_runs", "timers", "group_leases", "job_claims"}


def test_each_feature_package_describes_itself_and_is_listed_once() -> None:
    assert len(FEATURE_PACKAGES) == len(set(FEATURE_PACKAGES))
    for name, feature in zip(FEATURE_PACKAGES, FEATURES, strict=True):
        package = importlib.import_module(f"handlers.{name}")
        assert feature.name == name, f"handlers/{name} exports a feature called {feature.name!r}"
        doc = (package.__doc__ or "").strip()
        assert len(doc.splitlines()) >= 5, f"handlers/{name} lacks its README-sized docstring"
    handler_names = [h.name for f in FEATURES for h in f.handlers]
    assert len(handler_names) == len(set(handler_names))


def test_handlers_and_jobs_never_reach_the_whole_store() -> None:
    offenders = []
    for path in (ROOT / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr == "store" and isinstance(node.value, ast.Name)
                    and node.value.id == "ctx"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_every_table_belongs_to_storage_or_to_the_feature_that_declares_it() -> None:
    declared = {t.name: f.name for f in FEATURES for t in f.tables}
    for name, table in Base.metadata.tables.items():
        if name in SHARED_TABLES:
            assert table.metadata is GROUPS.metadata
            continue
        assert name in declared, f"table {name} is declared by no feature"
        module = {m.class_.__module__ for m in Base.registry.mappers if m.local_table is table}
        assert module == {f"handlers.{declared[name]}.tables"}, f"table {name} lives in {module}"


def test_no_module_of_the_core_folders_is_over_400_lines() -> None:
    big = []
    for folder in CORE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                big.append(f"{path.relative_to(ROOT)} ({lines})")
    assert big == []


def test_every_feature_has_its_tests() -> None:
    missing = [name for name in FEATURE_PACKAGES
               if not list((ROOT / "tests" / "features" / name).glob("test_*.py"))]
    assert missing == []


def test_every_data_file_beside_the_code_is_shipped_with_the_package() -> None:
    # a file the code loads from its package (a model, a table) must be in pyproject's package-data, or an
    # installed bot runs without it (the chat model would be quietly missing)
    import tomllib

    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    for folder in ("handlers", "rules", "storage", "bot", "scheduler"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".gz", ".json", ".bin", ".yaml") or "__pycache__" in path.parts:
                continue
            package = ".".join(path.parent.relative_to(ROOT).parts)
            assert path.name in shipped.get(package, []), f"{path.relative_to(ROOT)} is not in package-data"
