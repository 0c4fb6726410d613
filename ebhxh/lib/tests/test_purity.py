"""The rules in ebhxh/lib are pure Python, so payroll software and the offline validator can use
them without Django."""

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parent.parent
FORBIDDEN = {"django", "ninja", "celery"}
PURE_MODULES = ["identifiers.py", "workdays.py"]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_module_has_no_django_imports(module: str) -> None:
    tree = ast.parse((LIB / module).read_text(encoding="utf-8"))
    imported = [
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
    ]
    assert imported
    assert not [n for n in imported if n.split(".")[0] in FORBIDDEN]
