"""The error tree drawn in ``tallyroom/errors.py``'s docstring is the tree of the classes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import tallyroom
from tallyroom import errors
from tallyroom.errors import TallyroomError


def _drawn() -> dict[str, str | None]:
    """Each class in the drawing and its drawn parent."""
    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        m = re.match(r"^(\s*)((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w+)\s{2,}", line)
        if not m or not (line.strip().startswith(("TallyroomError", "├", "└", "│"))):
            continue
        depth = len(m.group(2)) // 4 + (1 if "──" in line else 0)
        name = m.group(3)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def _every_error_class() -> dict[str, type[TallyroomError]]:
    for info in pkgutil.walk_packages(tallyroom.__path__, "tallyroom."):
        if ".migrations." in info.name:
            continue
        importlib.import_module(info.name)
    found: dict[str, type[TallyroomError]] = {}
    todo: list[type[TallyroomError]] = [TallyroomError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("tallyroom"):
            found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_is_defined_in_errors_py() -> None:
    strays = {
        name: cls.__module__
        for name, cls in _every_error_class().items()
        if cls.__module__ != "tallyroom.errors"
    }
    assert strays == {}


def test_the_drawing_is_the_tree() -> None:
    drawn = _drawn()
    classes = _every_error_class()
    assert set(drawn) == set(classes)
    for name, cls in classes.items():
        parent = drawn[name]
        if parent is None:
            assert cls is TallyroomError
        else:
            assert cls.__bases__ == (classes[parent],), name


def test_every_public_error_is_exported() -> None:
    public = {n for n, v in inspect.getmembers(errors, inspect.isclass) if issubclass(v, Exception)}
    assert public <= set(errors.__all__)
