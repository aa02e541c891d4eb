"""RELIABILITY.md names the test that keeps each case true: every test it names exists."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_test_named_in_reliability_md_exists():
    named = NAMED.findall((ROOT / "RELIABILITY.md").read_text())
    assert len(named) >= 20
    missing = []
    for path, name in named:
        file = ROOT / path
        functions = ({node.name for node in ast.walk(ast.parse(file.read_text()))
                      if isinstance(node, ast.FunctionDef)} if file.is_file() else set())
        if name not in functions or not name.startswith("test_"):
            missing.append(f"{path}::{name}")
    assert not missing, f"RELIABILITY.md names tests that do not exist: {missing}"
