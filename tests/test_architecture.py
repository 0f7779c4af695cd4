"""docs/architecture.md draws the layout as it is, and the import contract has no exceptions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import tallyroom

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(tallyroom.__file__).resolve().parent
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _packages() -> list[Path]:
    return sorted(
        p.parent
        for p in PACKAGE.rglob("__init__.py")
        if "migrations" not in p.parts and p.parent != PACKAGE
    )


def test_every_package_is_drawn() -> None:
    missing = [str(p.relative_to(PACKAGE)) for p in _packages() if f"{p.name}/" not in DOC]
    assert missing == []


def test_every_module_is_named() -> None:
    missing = []
    for package in [PACKAGE, *_packages()]:
        for module in sorted(package.glob("*.py")):
            stem = module.stem
            if stem == "__init__":
                continue
            if not re.search(rf"(?<![\w/]){re.escape(stem)}(\.py)?\b", DOC):
                missing.append(str(module.relative_to(PACKAGE)))
    assert missing == []


def test_every_room_of_the_contract_is_a_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    rooms = {name.strip() for layer in layers for name in layer.split("|")}
    top = {f"tallyroom.{p.name}" for p in _packages() if p.parent == PACKAGE} | {"tallyroom.errors"}
    assert rooms == top
    for contract in contracts:
        assert "ignore_imports" not in contract, contract["name"]
