"""One definition of every setting: its default, range and help text, declared on the config dataclasses.

    @dataclass
    class TrainConfig:
        lr: float = setting(1e-3, "Learning rate", "Adam learning rate", low=1e-6, high=1.0)
        def __post_init__(self):
            check(self)

From that one declaration `check` validates a config, `parse` reads a value typed into a form or
sent as JSON, `add_arguments` builds the command-line flags and `describe` gives a UI what to
draw; so the CLI, the Train form and the HTTP API cannot disagree on a range or a default.

The declared label and help are the English ones; what a person reads comes from the catalogue
(i18n), under genmodels.settings.label.<field> and genmodels.settings.help.<config class>.<field>,
so the form and the messages speak the reader's language. A setting the catalogue lacks (a new
config class's, until translated) shows its declared English.
"""

import argparse
import dataclasses
import math
import types
from collections.abc import KeysView
from dataclasses import dataclass

import i18n


@dataclass(frozen=True)
class Spec:
    """How a setting is shown, checked and named on the command line."""

    label: str  # a short human name, used in messages and forms ("Learning rate")
    help: str  # one phrase saying what the setting does
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None
    choices: tuple = ()  # the allowed values of a text setting
    flag: str | None = None  # command-line flag when it is not --field-name


def setting(default, label: str, help: str, *, low=None, high=None, choices=(), flag=None) -> dataclasses.Field:
    """Return a dataclass field holding `default` and its Spec (see the module docstring)."""
    # A mapping's live key view stays live: data sets declared after import are valid choices too.
    choices = choices if isinstance(choices, KeysView) else tuple(choices)
    return dataclasses.field(default=default, metadata={"spec": Spec(label, help, low, high, choices, flag)})


@dataclass(frozen=True)
class Described:
    """A setting as a form shows it: name, kind ('int', 'float', 'bool', 'choice', 'text'), default, Spec."""

    name: str
    kind: str
    default: object
    spec: Spec
    owner: str = ""  # the config class declaring it ("TrainConfig"): its help text's catalogue key

    @property
    def label_text(self) -> "i18n.Text | str":
        """Return the setting's short name as a catalogue text, rendered in its reader's language."""
        return _catalogued(f"genmodels.settings.label.{self.name}", self.spec.label)

    @property
    def help_text(self) -> "i18n.Text | str":
        """Return the phrase saying what the setting does, as a catalogue text."""
        return _catalogued(f"genmodels.settings.help.{self.owner.lower()}.{self.name}", self.spec.help)

    @property
    def label_key(self) -> str | None:
        """Return the catalogue key of the label (None when the catalogue lacks it)."""
        key = f"genmodels.settings.label.{self.name}"
        return key if key in i18n.catalogue(i18n.DEFAULT) else None

    @property
    def help_key(self) -> str | None:
        """Return the catalogue key of the help text (None when the catalogue lacks it)."""
        key = f"genmodels.settings.help.{self.owner.lower()}.{self.name}"
        return key if key in i18n.catalogue(i18n.DEFAULT) else None


def _catalogued(key: str, declared: str) -> "i18n.Text | str":
    return i18n.Text(key) if key in i18n.catalogue(i18n.DEFAULT) else declared


def _value_type(field: dataclasses.Field) -> tuple[type, bool]:
    """Return (the field's value type, whether None is allowed) from its annotation."""
    if isinstance(field.type, types.UnionType):
        members = [t for t in field.type.__args__ if t is not type(None)]
        return members[0], True
    return field.type, False


def _kind(field: dataclasses.Field, spec: Spec) -> str:
    value_type, _ = _value_type(field)
    if spec.choices:
        return "choice"
    return {int: "int", float: "float", bool: "bool"}.get(value_type, "text")


def specs(config_class) -> dict[str, Described]:
    """Return {field name: Described} for every declared setting of a config dataclass, in field order."""
    out = {}
    for field in dataclasses.fields(config_class):
        spec = field.metadata.get("spec")
        if spec is not None:
            out[field.name] = Described(field.name, _kind(field, spec), field.default, spec, config_class.__name__)
    return out


def _shown(value) -> str:
    """Return repr(value) cut to a length a message can quote back."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number_text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_value(described: Described, value) -> None:
    """Raise a ValueError (an i18n.Sentence) with one sentence when `value` is not allowed for the setting."""
    spec, kind, label = described.spec, described.kind, described.label_text
    if value is None and described.default is None:
        return
    if kind == "bool":
        if not isinstance(value, bool):
            raise i18n.Sentence("genmodels.settings.must_be_bool", label=label, value=_shown(value))
        return
    if kind in ("int", "float"):
        what = "genmodels.settings.must_be_int" if kind == "int" else "genmodels.settings.must_be_number"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                kind == "int" and not isinstance(value, int)):
            raise i18n.Sentence(what, label=label, value=_shown(value))
        if math.isnan(value) or math.isinf(value):
            raise i18n.Sentence(what, label=label, value=_shown(value))
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            raise i18n.Sentence("genmodels.settings.must_be_between", label=label, low=_number_text(spec.low),
                                high=_number_text(spec.high), value=_number_text(value))
        return
    if not isinstance(value, str):
        raise i18n.Sentence("genmodels.settings.must_be_text", label=label, value=_shown(value))
    if spec.choices and value not in spec.choices:
        raise i18n.Sentence("genmodels.settings.must_be_one_of", label=label, choices=", ".join(map(str, spec.choices)),
                            value=_shown(value))


def check(config) -> None:
    """Raise a ValueError naming the first setting of `config` that has a wrong type or is out of range."""
    for name, described in specs(type(config)).items():
        check_value(described, getattr(config, name))


def parse(described: Described, value):
    """Return `value` (from a form or JSON: a number, numeric text, a bool, text) as the setting's type.

    Blank means the default. Raises a ValueError with one sentence when it cannot be read or is
    out of range: `parse(specs(TrainConfig)["lr"], "abc")` says "Learning rate must be a number".
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return described.default
    kind, label = described.kind, described.label_text
    if kind in ("int", "float") and not isinstance(value, bool):
        what = "genmodels.settings.must_be_int" if kind == "int" else "genmodels.settings.must_be_number"
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise i18n.Sentence(what, label=label, value=_shown(value)) from None
        if math.isnan(number) or math.isinf(number) or (kind == "int" and number != int(number)):
            raise i18n.Sentence(what, label=label, value=_shown(value))
        value = int(number) if kind == "int" else number
    elif kind in ("choice", "text") and isinstance(value, str):
        value = value.strip()
    check_value(described, value)
    return value


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, config_class) -> None:
    """Add one command-line flag per setting of `config_class` (defaults, choices and help from its Specs)."""
    for name, described in specs(config_class).items():
        spec = described.spec
        flag = spec.flag or "--" + name.replace("_", "-")
        text = spec.help
        if spec.low is not None:
            text += f" ({_number_text(spec.low)} to {_number_text(spec.high)})"
        if described.kind == "bool":
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=described.default,
                                help=text)
            continue
        value_type = {"int": int, "float": float}.get(described.kind, str)
        parser.add_argument(flag, dest=name, type=value_type, default=described.default,
                            choices=spec.choices or None, help=text + " (default: %(default)s)")


def from_arguments(config_class, args: argparse.Namespace):
    """Return a `config_class` built from the parsed flags that `add_arguments` added."""
    return config_class(**{name: getattr(args, name) for name in specs(config_class)})
