"""One source per training setting: the TrainConfig fields generate the `facestudio train`
flags, their help (with the field's default), the checks, and the UI bench's command line."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from facestudio.cli import main
from facestudio.errors import ConfigError
from facestudio.cli.train import add_arguments
from trainer.config import DEFAULTS, SETTINGS, TrainConfig
from trainer.config_flags import command_line, flag_help, given_settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p


def test_every_flag_comes_from_a_field_and_its_help_states_the_field_default():
    p = parser()
    by_dest = {a.dest: a for a in p._actions}
    flagged = [name for name, spec in SETTINGS.items() if spec.flag]
    assert len(flagged) >= 30
    for name in flagged:
        action = by_dest[name]
        assert action.option_strings == [f"--{SETTINGS[name].flag}"] and action.default is None  # unset: resume can tell
        default = DEFAULTS[name]
        if SETTINGS[name].kind != "bool" and default is not None:
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            assert action.help.endswith(f"(default {shown})"), name
    assert "(default 0.999)" in flag_help("ema_decay") and DEFAULTS["ema_decay"] == TrainConfig().ema_decay == 0.999


def test_command_line_builds_the_same_config():
    config = TrainConfig(image_size=32, nz=16, ngf=8, ndf=16, batch_size=8, max_steps=30, minutes=2.5, flip=True, amp=False,
                         loss="hinge", label_smoothing=0.0, lr_g=1.2345e-4, ema_decay=0.0, d_norm="spectral", threads=3)
    again = TrainConfig(**given_settings(parser().parse_args(command_line(config))))
    assert again == config
    assert command_line(TrainConfig()).count("--flip") == 0 and "--no-amp" not in command_line(TrainConfig())


@pytest.mark.parametrize("flags, named", [
    (["--max-steps", "0"], "--max-steps"), (["--minutes", "-1"], "--minutes"), (["--batch", "0"], "--batch"),
    (["--ema", "1.5"], "--ema"), (["--sample-count", "1"], "--sample-count"), (["--eval-n", "3"], "--eval-n"),
])
def test_bad_values_are_refused_before_any_work_starts(flags, named, tmp_path, capsys):
    assert main(["train", *flags, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert named in err and "preparing" not in err and err.count("\n") == 1  # one sentence, nothing prepared
    assert not any(tmp_path.iterdir())  # no run folder either


def test_a_resume_checks_its_flags_before_opening_the_run(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "missing"), "--max-steps", "0"]) == 2
    assert "--max-steps" in capsys.readouterr().err


def test_each_setting_is_checked_on_its_own_with_its_flag_named():
    args = parser().parse_args(["--batch", "1"])
    with pytest.raises(ConfigError, match=r"batch_size=1 \(--batch\).*from 2 to 8192"):
        given_settings(args)
    for f in dataclasses.fields(TrainConfig):
        assert isinstance(f.metadata.get("setting"), type(SETTINGS["nz"])), f.name  # every field is described


def test_the_readme_flag_table_states_the_field_defaults():
    """README.md's `facestudio train` table repeats the defaults for readers; it must not drift from the fields."""
    import re
    from pathlib import Path

    by_flag = {spec.flag: name for name, spec in SETTINGS.items() if spec.flag}
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    checked = 0
    for row in readme.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))] if row.startswith("| `--") else []
        if len(cells) < 3:
            continue
        flags = [f for f in re.findall(r"`--([a-z-]+)", cells[0]) if f in by_flag]
        shown = [d.strip().strip("`") for d in cells[1].split(",")]
        if not flags or len(shown) != len(flags):
            continue
        for flag, text in zip(flags, shown):
            default = DEFAULTS[by_flag[flag]]
            text = text.split(" (")[0]
            if default is None:
                assert text in ("–", "-") or SETTINGS[by_flag[flag]].default_text, flag  # unset, or said in words
            elif isinstance(default, bool):
                continue  # a switch: the table says it is not given by default
            elif isinstance(default, (int, float)):
                assert float(text) == default, flag
            else:
                assert text == default, flag
            checked += 1
    assert checked >= 25, checked
