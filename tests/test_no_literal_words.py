"""No user-visible words bypass the catalogue (i18n/): an AST check of the app's Python.

In ui/, jobs/, genmodels/ and app.py it finds a string literal or f-string holding words
  - as label=, info= or placeholder= of any gr.* call, or value= of a component that shows text
    (gr.Markdown, gr.HTML, gr.Button, gr.Textbox);
  - as the first argument of gr.Markdown, gr.HTML, gr.Button, gr.Tab, gr.Accordion, gr.Error, gr.Warning, gr.Info;
  - as the message of a raised error a person may read (`raise ValueError(...)`, any error class but those of
    NOT_READ; a ValueError a person reads is an i18n.Sentence), INTERNAL's few aside.
"Words" are two letters in a row of any script once HTML tags are removed: markup, a lone symbol ("×", "z")
and identifiers with a dash, dot or underscore ("vae-mnist", "ll-main") are no words. A literal passed
through a variable is out of its sight: the rule of docs/languages.md still holds for it; and every key
the code spells out must be in the catalogue.

Each offender is reported as path:line with what it found. `python tests/test_no_literal_words.py` lists them.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

import i18n

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("app.py", "ui", "jobs", "genmodels")

# Errors a person never reads as they are: ui.errors.user_errors logs any but a ValueError as a bug and shows the
# catalogue's apology; a Sentence's or Text's first argument is a key, not words.
NOT_READ = ("TypeError", "OSError", "RuntimeError", "KeyError", "AssertionError", "NotImplementedError", "Sentence", "Text")
# ValueErrors that never reach a person: a helper's protocol line and a cluster's checkpoint copy, each caught where
# it could surface and replaced by a sentence of the catalogue (jobs/runner.py, jobs/ray_backend.py).
INTERNAL = {("jobs/messages.py", "not a job line"), ("jobs/mirror.py", "a checkpoint without config.json"),
            ("jobs/mirror.py", "a checkpoint file with an unexpected name"),
            ("jobs/mirror.py", "a checkpoint far larger than any this app writes")}
TEXT_KEYWORDS = ("label", "info", "placeholder")
VALUE_SHOWN = ("Markdown", "HTML", "Button", "Textbox")  # components whose value= is text on the page
FIRST_SHOWN = ("Markdown", "HTML", "Button", "Tab", "Accordion", "Error", "Warning", "Info")
WORDS = re.compile(r"[^\W\d_]{2,}")
TAG = re.compile(r"<[^>]*>|&\w+;")
IDENTIFIER = re.compile(r"[\w]+(?:[-._][\w]+)+")


def literal_text(node) -> str | None:
    """Return the literal words of an expression (a str constant, the constant parts of an f-string, a + of them,
    "...".format(...)), or None when it holds no literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(part.value for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        parts = [literal_text(node.left), literal_text(node.right)]
        return " ".join(p for p in parts if p) or None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return literal_text(node.func.value)
    return None


def has_words(text: str | None) -> bool:
    """Return whether a literal's text holds words a person reads (not markup, a symbol or an identifier)."""
    if not text:
        return False
    stripped = TAG.sub(" ", text)
    return any(WORDS.search(token) and not IDENTIFIER.fullmatch(token) for token in stripped.split())


def gradio_name(func) -> str | None:
    """Return X for a call of gr.X, else None."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "gr":
        return func.attr
    return None


def offenders_in(path: Path) -> list[str]:
    """Return "path:line: what" for every user-visible literal in one Python file."""
    relative = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    found = []

    def report(node, what: str) -> None:
        text = literal_text(node)
        if has_words(text) and (relative, text) not in INTERNAL:
            found.append(f"{relative}:{node.lineno}: {what} is the literal {text[:60]!r}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            if isinstance(node.exc.func, ast.Name) and node.exc.func.id not in NOT_READ:  # gr.Error: a gr call below
                report(node.exc.args[0], f"a raised {node.exc.func.id}'s message")
            continue
        if not isinstance(node, ast.Call) or gradio_name(node.func) is None:
            continue
        name = gradio_name(node.func)
        for keyword in node.keywords:
            if keyword.arg in TEXT_KEYWORDS or (keyword.arg == "value" and name in VALUE_SHOWN):
                report(keyword.value, f"gr.{name}'s {keyword.arg}=")
        if name in FIRST_SHOWN and node.args:
            report(node.args[0], f"gr.{name}'s first argument")
    return sorted(set(found), key=lambda line: (line.split(":")[0], int(line.split(":")[1])))


def python_files() -> list[Path]:
    """Return the checked files."""
    files = []
    for top in CHECKED:
        base = ROOT / top
        files += sorted([base] if base.is_file() else base.rglob("*.py"))
    return files


def test_no_user_visible_literal_bypasses_the_catalogue():
    found = [line for path in python_files() for line in offenders_in(path)]
    assert not found, (f"{len(found)} user-visible literal(s) outside the catalogue (i18n/*.json; docs/languages.md):\n"
                       + "\n".join(found))


# Calls whose first argument, spelled out, is a catalogue key.
KEYED = ("text", "Sentence", "Text", "words", "TrainingDiverged", "RefusedFile")


def test_every_key_the_code_spells_out_is_in_the_catalogue():
    """i18n.text("train.x"), Sentence("jobs.y"), Text(...), words(...): a spelled-out key exists in English (the
    catalogue test then requires it in every language); a typo would otherwise show a KeyError's apology."""
    english = i18n.catalogue(i18n.DEFAULT)
    missing = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                key = node.args[0].value
                if name in KEYED and isinstance(key, str) and "." in key and " " not in key and key not in english:
                    missing.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}: {key}")
    assert not missing, "keys not in i18n/en.json:\n" + "\n".join(missing)


@pytest.mark.parametrize("source, count", [
    ('raise ValueError("z must be a list of numbers.")', 1),
    ('raise ValueError(f"There is no class number {n} in this model.")', 1),
    ('raise ValueError(i18n.Sentence("explore.no_class", n=n))', 0),
    ('gr.Markdown("# Latent Lab")', 1),
    ('gr.Markdown(language.words("app.intro"))', 0),
    ('gr.Slider(0, 1, label="z" + str(d))', 0),
    ('gr.Slider(0, 1, label="Rows read")', 1),
    ('gr.Dropdown(["vae-mnist"], value="vae-mnist", label=words("explore.model"))', 0),
    ('gr.HTML(value=f"<div class=\\"ll-frame\\">{picture}</div>")', 0),
    ('gr.HTML(f"<p>Drag a slider</p>")', 1),
    ('raise gr.Error("Try again " + reason)', 1),
    ('gr.Button("×")', 0),
])
def test_the_check_finds_words_and_only_words(tmp_path, monkeypatch, source, count):
    path = tmp_path / "probe.py"
    path.write_text(source + "\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert len(offenders_in(path)) == count, offenders_in(path)


if __name__ == "__main__":
    everything = [line for path in python_files() for line in offenders_in(path)]
    print("\n".join(everything) + f"\n{len(everything)} offender(s)")
