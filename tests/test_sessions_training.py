"""The Qt-free pieces behind the training room: figure columns, following a run folder,
suggested settings, health in words, budget arithmetic and the background hand-off."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from facestudio.errors import ConfigError
from facestudio.sessions.training.background_run import background_command, continue_in_background
from facestudio.sessions.training.health_report import OK, PROBLEM, WATCH, describe_health, overall_level
from facestudio.sessions.training.metric_series import MetricSeries
from facestudio.sessions.training.run_follower import RunFollower, run_ended, sample_steps
from facestudio.sessions.training.run_progress import RunProgress, format_duration, plan_of_run
from facestudio.sessions.training.suggested_settings import suggest_settings
from trainer.config import TrainConfig


def rec(step, **kw):
    return {"step": step, "seconds": step * 0.1, "loss_g": 1.0 + step, "loss_d": 0.5, "d_real": 0.7, "d_fake": 0.3,
            "images_per_s": 100.0, **kw}


# ---------------------------------------------------------------- MetricSeries
def test_series_grows_past_its_first_buffer_and_keeps_every_value():
    s = MetricSeries()
    s.extend(rec(i) for i in range(1, 3001))
    assert len(s) == 3000 and s.last_step == 3000
    np.testing.assert_array_equal(s.column("step"), np.arange(1, 3001))
    np.testing.assert_allclose(s.column("loss_g"), np.arange(1, 3001) + 1.0)
    assert not s.column("step").flags.writeable  # views handed to plots cannot be scribbled on


def test_smoothing_is_the_debiased_moving_average_and_skips_missing_values():
    s = MetricSeries(smoothing=0.5)
    s.extend([rec(1, loss_d=1.0), rec(2, loss_d=None), rec(3, loss_d=3.0)])
    # debiased EMA with a=0.5: first value exactly 1; then (0.25*... ) -> (0.5*0.5*1 + 0.5*3) / (1 - 0.25)
    smoothed = s.smoothed("loss_d")
    assert smoothed[0] == pytest.approx(1.0)
    assert math.isnan(smoothed[1]) and math.isnan(s.column("loss_d")[1])
    assert smoothed[2] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / 0.75)


def test_a_step_that_goes_back_rewinds_the_history():
    s = MetricSeries()
    s.extend(rec(i) for i in range(1, 11))
    s.extend([rec(6, loss_g=-1.0)])  # resumed from step 5
    np.testing.assert_array_equal(s.column("step"), np.arange(1, 7))
    assert s.column("loss_g")[-1] == -1.0
    assert s.extend([{"no": "step"}, {"step": True}, "junk"]) == 0


def test_csv_has_every_column_and_leaves_missing_cells_empty():
    s = MetricSeries()
    s.extend([rec(1, diversity=0.5), rec(2)])
    lines = s.to_csv().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["step", "seconds", "loss_g"] and "loss_d_smoothed" in header
    row2 = dict(zip(header, lines[2].split(",")))
    assert row2["step"] == "2" and row2["diversity"] == "" and float(row2["loss_g"]) == 3.0


# ---------------------------------------------------------------- following a run folder
def make_run(tmp_path, config=None):
    run = tmp_path / "00000-demo"
    (run / "samples").mkdir(parents=True)
    (run / "checkpoints").mkdir()
    cfg = (config or TrainConfig(max_steps=400, batch_size=8)).to_dict()
    (run / "config.json").write_text(json.dumps({"format": "facestudio-run", "version": 1, "config": cfg,
                                                 "data": {"images": 64}, "world_size": 1}))
    return run


def append(path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_follower_reads_only_complete_lines_and_picks_up_the_torn_one_later(tmp_path):
    run = make_run(tmp_path)
    metrics = run / "metrics.jsonl"
    f = RunFollower(run, max_bytes=64 * 1024)
    assert not f.poll()  # no metrics yet: nothing, no error
    append(metrics, json.dumps(rec(1)) + "\n" + json.dumps(rec(2))[:20])  # step 2 is being written
    assert [r["step"] for r in f.poll().records] == [1]
    append(metrics, json.dumps(rec(2))[20:] + "\n" + "{not json}\n")
    update = f.poll()
    assert [r["step"] for r in update.records] == [2] and f.damaged_lines == 1


def test_follower_reads_a_long_history_in_slices(tmp_path):
    run = make_run(tmp_path)
    (run / "metrics.jsonl").write_text("".join(json.dumps(rec(i)) + "\n" for i in range(1, 501)))
    f = RunFollower(run, max_bytes=4096)
    steps, polls = [], 0
    while True:
        update = f.poll()
        polls += 1
        steps += [r["step"] for r in update.records]
        if not update.more:
            break
    assert steps == list(range(1, 501)) and polls > 5


def test_follower_starts_over_when_a_resume_rewrites_the_log(tmp_path):
    run = make_run(tmp_path)
    metrics = run / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(rec(i)) + "\n" for i in range(1, 11)))
    f = RunFollower(run)
    assert len(f.poll().records) == 10
    tmp = run / ".metrics.tmp"
    tmp.write_text("".join(json.dumps(rec(i)) + "\n" for i in range(1, 6)))
    os.replace(tmp, metrics)  # what MetricsLog.truncate_after does
    update = f.poll()
    assert update.reset and [r["step"] for r in update.records] == [1, 2, 3, 4, 5]


def test_sample_grids_and_the_end_of_the_run_are_noticed(tmp_path):
    run = make_run(tmp_path)
    for step in (20, 5, 100):
        (run / "samples" / f"step_{step:07d}.png").write_bytes(b"png")
    (run / "samples" / "fixed_z.npy").write_bytes(b"")
    assert [s for s, _ in sample_steps(run)] == [5, 20, 100]
    f = RunFollower(run)
    assert [s for s, _ in f.poll().samples] == [5, 20, 100]
    assert f.poll().samples == []
    assert run_ended(run) is None
    (run / "log.txt").write_text("2026-01-01 10:00:00  started\n2026-01-01 10:05:00  finished at step 400 (max_steps); model: model.safetensors\n")
    assert "finished at step 400" in f.poll().ended


def test_following_something_that_is_not_a_run_says_so(tmp_path):
    with pytest.raises(ConfigError, match="not a FaceStudio run folder"):
        RunFollower(tmp_path)


# ---------------------------------------------------------------- suggestions, health, budget
@pytest.mark.parametrize("n", [20, 300, 3000, 50_000])
def test_suggested_settings_are_valid_training_settings_with_reasons(n):
    s = suggest_settings(n)
    TrainConfig(**s.values)  # every value is one TrainConfig accepts
    assert set(s.reasons) == set(s.values) and all(len(r) > 20 for r in s.reasons.values())
    assert s.values["batch_size"] <= max(2, n // 2)
    assert s.values["flip"] == (n < 5000)


def test_health_in_words():
    fine = describe_health(step=1000, d_real=0.7, d_fake=0.3, diversity=0.8)
    assert overall_level(fine) == OK and any("fair contest" in n.text for n in fine)
    winning = describe_health(step=1000, d_real=0.99, d_fake=0.01, diversity=0.8)
    assert overall_level(winning) == WATCH and "DiffAugment" in winning[0].text
    collapsing = describe_health(step=1000, d_real=0.7, d_fake=0.3, diversity=0.1)
    assert collapsing[0].level == PROBLEM and "alike" in collapsing[0].text  # worst first
    early = describe_health(step=100, d_real=0.99, d_fake=0.01, diversity=0.1)
    assert overall_level(early) == WATCH  # untrained generators draw alike blobs; D always leads at first
    assert any(n.topic == "contest" and n.level == OK and "usual in the first" in n.text for n in early)
    nan = describe_health(step=1000, d_real=math.nan, d_fake=0.3, diversity=None, skipped_steps=4, recent_skips=2)
    assert nan[0].level == PROBLEM and "NaN" in nan[0].text


def test_budget_arithmetic_and_durations():
    p = RunProgress(planned_steps=1000, minutes=10, session_start_seconds=100.0)
    p.update({"step": 250, "seconds": 160.0, "steps_per_s": 5.0})
    assert p.fraction == pytest.approx(0.25)
    assert p.minutes_left == pytest.approx(9.0)
    assert p.seconds_left == pytest.approx(150.0)  # 750 steps at 5/s come before 9 minutes
    assert RunProgress().fraction is None and RunProgress().seconds_left is None
    assert [format_duration(s) for s in (5, 95, 1800, 7500, None)] == ["5 s", "1 min 35 s", "30 min", "2 h 05 min", "unknown"]


def test_plan_of_a_run_folder(tmp_path):
    run = make_run(tmp_path, TrainConfig(max_steps=400, epochs=2.0, batch_size=8, minutes=5))
    plan = plan_of_run(run)
    assert plan.planned_steps == 16 and plan.minutes == 5  # 2 epochs of 64 images at batch 8
    (run / "log.txt").write_text("x  resumed from ckpt_0000008.safetensors at step 8\n")
    assert plan_of_run(run).minutes is None  # per-session minutes: unknown start after a resume
    assert plan_of_run(tmp_path).planned_steps is None


def test_the_background_command_resumes_the_run_with_what_is_left(tmp_path):
    run = make_run(tmp_path)
    cmd = background_command(run, minutes=2.5, python="py")
    assert cmd[:5] == ["py", "-m", "facestudio", "train", "--resume"] and cmd[-2:] == ["--minutes", "2.500"]
    assert "--minutes" not in background_command(run)
    with pytest.raises(ConfigError, match="no checkpoint"):
        continue_in_background(run)


def test_an_outright_discriminator_win_is_a_problem_in_plain_words_at_any_step():
    notes = describe_health(step=40, d_real=0.7, d_fake=0.0, diversity=None, d_win_streak=100, d_win_steps=100)
    contest = next(n for n in notes if n.topic == "contest")
    assert contest.level == PROBLEM and "winning outright" in contest.text and "DiffAugment on" in contest.text
    short = describe_health(step=40, d_real=0.7, d_fake=0.0, diversity=None, d_win_streak=99, d_win_steps=100)
    assert next(n for n in short if n.topic == "contest").level != PROBLEM


def test_the_training_room_says_when_its_state_or_run_changes(tmp_path):
    from facestudio.sessions.training.room_state import RoomChange, RoomState, TrainingRoom

    room = TrainingRoom()
    seen = []
    room.subscribe(seen.append)
    assert room.state is RoomState.IDLE and room.state.can_start and not room.state.can_pause
    room.set_state("preparing")
    assert room.state is RoomState.PREPARING and room.state.trains_here and not room.state.can_start
    room.set_run(tmp_path)
    room.set_run(tmp_path)  # the same run: no event
    room.set_state(RoomState.PAUSED)
    assert seen == [RoomChange.STATE, RoomChange.RUN, RoomChange.STATE]
    assert room.state.can_pause and room.state.label == "Paused" and room.state == "paused"
    with pytest.raises(ValueError):
        room.set_state("flying")
