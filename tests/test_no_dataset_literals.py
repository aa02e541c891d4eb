"""No ui/ module holds a data set's shape: not the 28-pixel side (nor 784, 27 or a sum making them), not the
ten classes (range(10), a palette indexed `% 10`, ten belief bars), not a list of class names. They come from the data set's
declaration (genmodels.data.DATASETS) through the models and checkpoints."""

import ast
import operator
from pathlib import Path

from genmodels.data import DATASETS

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
SIDE_NUMBERS = {28, 27, 784}  # the MNIST side, its last row index and its pixel count
CLASS_COUNT = 10
CLASS_NAMES = {name for info in DATASETS.values() for name in info.class_names}
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
             ast.Pow: operator.pow}


def _value(node):
    """Return the number a constant expression (e.g. 14 * 2) evaluates to, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _value(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        left, right = _value(node.left), _value(node.right)
        if left is None or right is None or (isinstance(node.op, ast.Pow) and abs(right) > 8):
            return None
        try:
            return OPERATORS[type(node.op)](left, right)
        except ArithmeticError:
            return None
    return None


def literals(source: str) -> list[str]:
    """Return a description of every data-set literal in a module's source, with its line."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Constant, ast.BinOp, ast.UnaryOp)) and _value(node) in SIDE_NUMBERS:
            found.add(f"line {line}: the image side's number {_value(node)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            if any(_value(arg) == CLASS_COUNT for arg in node.args):
                found.add(f"line {line}: range(...{CLASS_COUNT}...)")
        if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.BinOp) and isinstance(node.slice.op, ast.Mod)
                and _value(node.slice.right) == CLASS_COUNT):
            found.add(f"line {line}: [... % {CLASS_COUNT}]")
        if isinstance(node, ast.keyword) and "class" in (node.arg or "") and _value(node.value) == CLASS_COUNT:
            found.add(f"line {line}: {node.arg}={CLASS_COUNT}")
        if isinstance(node, ast.arguments):
            named = node.posonlyargs + node.args
            for arg, default in zip(named[len(named) - len(node.defaults):], node.defaults):
                if "class" in arg.arg and _value(default) == CLASS_COUNT:
                    found.add(f"line {arg.lineno}: {arg.arg}={CLASS_COUNT}")
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            names = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in CLASS_NAMES]
            if len(names) >= 3:
                found.add(f"line {line}: a list of class names {names[:3]}...")
    return sorted(found)


def test_no_ui_module_holds_the_side_or_the_classes():
    problems = {str(path.relative_to(UI_DIR.parent)): literals(path.read_text())
                for path in sorted(UI_DIR.rglob("*.py"))}
    problems = {path: found for path, found in problems.items() if found}
    assert not problems, f"data set literals in ui/ (read them from the declaration or the model): {problems}"


def test_the_check_finds_what_it_looks_for():
    source = """
SIDE = 28
PIXELS = 14 * 2
LAST = -(-27)
bars = [gr.Slider() for k in range(10)]
colour = palette[c % 10]
probs = gr.Label(num_top_classes=10)
def check_label(value, num_classes=10): ...
NAMES = ["T-shirt/top", "Trouser", "Pullover"]
DIGITS = tuple(["0", "1", "2", "3"])
"""
    assert len(literals(source)) == 9
    assert literals("TOP, SLOTS, LIMIT = 10, 20, 10.0\nx = [a for a in range(20)]\nNAME = 'T-shirt/top'\n"
                    "y = {1: 'st'}.get(n % 10)") == []
