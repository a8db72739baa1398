"""`facestudio train` flags generated from the TrainConfig fields' `Setting` metadata.

Each flag's name, type, unit, choices and help (ending in the field's default) come from
the field, so a new setting or a changed default needs one edit in trainer/config.py.
Every flag defaults to "unset" (None), so a resume can tell a repeated flag (accepted
when the value is the same) from one that would change how the run trains (refused).
`command_line` is the reverse: the flags that make `facestudio train` build a given config.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from trainer.config import DEFAULTS, SETTINGS, Setting, TrainConfig, check_setting

#: Argument groups of `facestudio train --help`, in order (Setting.group -> title).
GROUP_TITLES = {
    "data": "data",
    "model": "model",
    "training": "training",
    "budget": "budget (training stops at the first one reached; none = until Ctrl-C)",
    "files": "run folder and resume",
    "hardware": "hardware",
}


def _value_text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def flag_help(name: str) -> str:
    """The help of field `name`'s flag: its sentence and, where there is one, its default."""
    spec, default = SETTINGS[name], DEFAULTS[name]
    if spec.kind == "bool":
        return spec.help
    if default is None:
        return f"{spec.help} (default: {spec.default_text})" if spec.default_text else spec.help
    return f"{spec.help} (default {_value_text(default)})"


def _parse(spec: Setting):
    """An argparse type that converts and checks the value at once, naming the flag."""
    convert = {"int": int, "float": float, "str": str}.get(spec.kind) or type(spec.choices[0])

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if convert is int else 'a number'}") from None
        return value

    parse.__name__ = spec.kind  # argparse names the type in its messages
    return parse


def add_setting_arguments(p: argparse.ArgumentParser) -> dict[str, argparse._ArgumentGroup]:
    """Add a flag for every TrainConfig field that has one; returns the groups by key (to add more flags to)."""
    groups = {key: p.add_argument_group(title) for key, title in GROUP_TITLES.items()}
    for name, spec in SETTINGS.items():
        if spec.flag is None:
            continue
        g = groups[spec.group]
        if spec.kind == "bool":
            g.add_argument(f"--{spec.flag}", dest=name, action="store_const", const=not DEFAULTS[name], help=flag_help(name))
            continue
        kwargs: dict[str, Any] = {"dest": name, "help": flag_help(name), "type": _parse(spec)}
        if spec.kind == "choice":
            kwargs["choices"] = spec.choices
        if spec.unit:
            kwargs["metavar"] = spec.unit
        g.add_argument(f"--{spec.flag}", **kwargs)
    return groups


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields set on the command line, each checked on its own (ConfigError naming the flag).

    Checked here, before any work starts: a bad value is refused at once, not after the
    data set has been prepared.
    """
    given = {name: getattr(args, name) for name, spec in SETTINGS.items()
             if spec.flag is not None and getattr(args, name, None) is not None}
    for name, value in given.items():
        check_setting(name, value)
    if "data" in given:  # saved absolute, so a resume from another folder finds the images
        data = given["data"].strip()
        given["data"] = "synthetic" if data.lower() == "synthetic" else str(Path(data).expanduser().resolve())
    return given


def command_line(config: TrainConfig) -> list[str]:
    """The `facestudio train` flags that build `config` (every setting with a flag, spelled out)."""
    out: list[str] = []
    for name, spec in SETTINGS.items():
        value = getattr(config, name)
        if spec.flag is None or value is None:
            continue
        if spec.kind == "bool":
            if value != DEFAULTS[name]:
                out.append(f"--{spec.flag}")
            continue
        out += [f"--{spec.flag}", repr(value) if isinstance(value, float) else str(value)]
    return out
