"""Trainer end to end on a tiny model: run folders, exact resume, hooks, pause/stop, budgets."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from facestudio.data import FaceDataSet
from facestudio.errors import ConfigError
from facestudio.models import load_model
from facestudio.models.checkpoint import load_safetensors_model
from trainer import TrainConfig, Trainer, read_metrics, read_run_config
from trainer.distributed import Distributed

# The tutorial-style settings these tests were written for (the defaults are now hinge, spectral-norm D, DiffAugment auto).
TINY = dict(image_size=32, nz=16, ngf=8, ndf=8, batch_size=8, sample_count=16, threads=1, loss="bce", d_norm="batch", diffaugment="auto")


@pytest.fixture
def data():
    """60 images whose every pixel is its index (so a batch tells which images it holds)."""
    ids = torch.arange(60, dtype=torch.uint8).view(60, 1, 1, 1).expand(60, 3, 32, 32).contiguous()
    noise = torch.randint(0, 120, (60, 3, 32, 32), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    images = ids.clone()
    images[:, :, 1:] += noise[:, :, 1:]  # row 0 keeps the id, the rest varies
    return FaceDataSet(images, None, [], "tiny")


def config(**kw):
    return TrainConfig(**{**TINY, **kw})


def weights(path):
    bundle, others, meta = load_safetensors_model(path)
    tensors = {f"{n}.{k}": v for n in ("generator", "discriminator", "ema_generator") for k, v in getattr(bundle, n).state_dict().items()}
    tensors.update({k: v for k, v in others.items() if k.startswith("train.opt")})
    return tensors, json.loads(meta["train_state"])


def test_run_folder_holds_config_metrics_samples_checkpoints_and_model(tmp_path, data):
    result = Trainer(config(max_steps=12, sample_every=5, checkpoint_every=4, keep=2), data, runs_dir=tmp_path).run()
    run = result.run_dir
    assert run.name == "00000-dcgan" and result.reason == "max_steps" and result.step == 12
    assert read_run_config(run) == config(max_steps=12, sample_every=5, checkpoint_every=4, keep=2)
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records] == list(range(1, 13))
    for key in ("epoch", "seconds", "images_per_s", "loss_g", "loss_d", "d_real", "d_fake", "lr_g", "lr_d", "grad_norm_d", "warnings"):
        assert key in records[-1]
    assert 0 < records[-1]["d_real"] < 1 and records[-1]["lr_g"] == 2e-4 and records[-1]["epoch"] == pytest.approx(12 / 7, abs=1e-4)
    assert records[4]["diversity"] > 0 and "diversity" not in records[3]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["fixed_z.npy", "step_0000000.png", "step_0000005.png", "step_0000010.png", "step_0000012.png"]
    with Image.open(run / "samples" / "step_0000010.png") as im:
        assert im.size == (4 * 34 + 2, 4 * 34 + 2)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["ckpt_0000008.safetensors", "ckpt_0000012.safetensors", "latest_good.safetensors"]
    fixed_z = np.load(run / "samples" / "fixed_z.npy", allow_pickle=False)
    tensors, state = weights(run / "checkpoints" / "ckpt_0000012.safetensors")
    _, others, _ = load_safetensors_model(run / "checkpoints" / "ckpt_0000012.safetensors")
    assert np.array_equal(fixed_z, others["train.fixed_z"].numpy()) and fixed_z.shape == (16, 16)
    assert others["train.rng.torch_cpu"].dtype == torch.uint8
    assert "train.opt_g.main.0.weight.exp_avg_sq" in others and others["train.opt_d.main.0.weight.step"].item() == 12
    assert state["step"] == 12 and state["config"]["max_steps"] == 12 and state["good"] and "numpy" in state["rng"]
    model = load_model(run)
    assert model.source == run / "model.safetensors" and model.ema_generator is not None and model.discriminator is not None
    assert model.config.info["steps"] == "12" and model.config.info["data"] == "tiny"
    assert "finished at step 12" in (run / "log.txt").read_text()


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path, data):
    base = config(max_steps=20, sample_every=6, checkpoint_every=7)
    whole = Trainer(base, data, runs_dir=tmp_path).run()
    first = Trainer(base.replace(max_steps=9), data, runs_dir=tmp_path).run()
    resumed = Trainer.resume(first.run_dir, data, max_steps=20).run()
    assert resumed.run_dir == first.run_dir and resumed.step == 20
    a, b = read_metrics(whole.run_dir / "metrics.jsonl"), read_metrics(first.run_dir / "metrics.jsonl")
    assert [r["step"] for r in b] == list(range(1, 21))
    for ra, rb in zip(a, b):
        for key in ("loss_g", "loss_d", "d_real", "d_fake", "epoch"):
            assert rb[key] == pytest.approx(ra[key], abs=1e-5), (ra["step"], key)
    wa, _ = weights(whole.checkpoint_path)
    wb, state = weights(resumed.checkpoint_path)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert state["step"] == 20 and read_run_config(first.run_dir).max_steps == 20
    log = (first.run_dir / "log.txt").read_text()
    assert "resumed from ckpt_0000009.safetensors at step 9" in log


def test_resume_refuses_conflicting_settings(tmp_path, data, capsys):
    run = Trainer(config(max_steps=3), data, runs_dir=tmp_path).run().run_dir
    with pytest.raises(ConfigError, match="batch_size=16"):
        Trainer.resume(run, data, batch_size=16, max_steps=5)
    Trainer.resume(run, data, batch_size=8, max_steps=5)  # a repeated flag is fine
    from facestudio.cli import main

    assert main(["train", "--resume", str(run), "--lr-d", "0.001", "--max-steps", "5"]) == 2
    assert "Cannot resume with different training settings: lr_d=0.001" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--runs-dir", str(tmp_path)]) == 2


def test_resume_from_an_older_checkpoint_sets_newer_ones_aside(tmp_path, data):
    run = Trainer(config(max_steps=9, checkpoint_every=3, keep=5), data, runs_dir=tmp_path).run().run_dir
    resumed = Trainer.resume(run / "checkpoints" / "ckpt_0000003.safetensors", data, max_steps=5)
    assert resumed.progress.step == 3 and any("moved 2 newer checkpoint(s)" in w for w in resumed.warnings)
    assert sorted(p.name for p in (run / "checkpoints" / "abandoned").iterdir()) == ["ckpt_0000006.safetensors", "ckpt_0000009.safetensors"]
    assert [r["step"] for r in read_metrics(run / "metrics.jsonl")] == [1, 2, 3]
    assert resumed.run().step == 5


def test_each_epoch_visits_every_image_once_and_processes_split_the_batch(data):
    trainer = Trainer(config(max_steps=1), data)
    ids = lambda x: ((x[:, 0, 0, 0] + 1) * 127.5).round().long().tolist()  # noqa: E731
    epoch = [i for _ in range(trainer.steps_per_epoch) for i in ids(trainer._next_batch())]
    assert len(epoch) == 56 and len(set(epoch)) == 56  # 7 batches of 8, last 4 images dropped
    trainer._next_batch()
    assert trainer.progress.epoch == 1
    # Two processes: rank r takes its half of the same global batch of 16.
    halves = []
    for rank in (0, 1):
        t = Trainer(config(max_steps=1), data)
        t.dist, t.global_batch = Distributed(rank=rank, world_size=2), 16
        halves.append(ids(t._next_batch()))
    single = Trainer(config(max_steps=1, batch_size=16), data)
    assert halves[0] + halves[1] == ids(single._next_batch())


def test_budgets_epochs_and_minutes(data):
    assert Trainer(config(epochs=1.5), data).run().step == 11  # ceil(1.5 * 7)
    result = Trainer(config(minutes=0.002), data).run()
    assert result.reason == "minutes" and result.step >= 1 and result.run_dir is None


def test_callbacks_pause_stop_and_snapshot_from_another_thread(tmp_path, data):
    trainer = Trainer(config(sample_every=4, checkpoint_every=0), data, runs_dir=tmp_path)
    events = {e: [] for e in ("metrics", "samples", "checkpoint", "status", "end")}
    for e in events:
        trainer.add_callback(e, events[e].append)
    reached = threading.Event()
    trainer.add_callback("metrics", lambda r: r["step"] >= 3 and reached.set())
    worker = threading.Thread(target=lambda: events.setdefault("result", trainer.run()))
    worker.start()
    assert reached.wait(60)
    trainer.request_pause()
    deadline = threading.Event()
    for _ in range(100):  # wait until the loop has noticed the pause
        if events["status"] and events["status"][-1]["state"] == "paused":
            break
        deadline.wait(0.05)
    paused_at = trainer.progress.step
    deadline.wait(0.3)
    assert trainer.paused and trainer.progress.step == paused_at
    bundle = trainer.snapshot_bundle()
    assert bundle.generator(torch.zeros(2, 16)).shape == (2, 3, 32, 32)
    assert set(trainer.ema_state_dict()) == set(trainer.G.state_dict())
    reached.clear()
    trainer.add_callback("metrics", lambda r: r["step"] >= paused_at + 3 and reached.set())
    trainer.resume_training()
    assert reached.wait(60)
    trainer.request_stop()
    worker.join(60)
    result = events["result"]
    assert result.reason == "stopped" and result.checkpoint_path.name == f"ckpt_{result.step:07d}.safetensors"
    assert [s["state"] for s in events["status"]][:3] == ["running", "paused", "running"]
    assert events["samples"][0]["grid"].dtype == np.uint8 and events["samples"][0]["grid"].shape == (138, 138, 3)
    assert events["checkpoint"][-1]["step"] == result.step and events["end"][0]["reason"] == "stopped"
    assert [r["step"] for r in events["metrics"]] == list(range(1, result.step + 1))
    assert "seconds" in events["metrics"][-1]


def test_eval_hooks_add_figures_and_a_failing_one_is_switched_off(data):
    trainer = Trainer(config(max_steps=6), data)
    seen = []
    trainer.add_eval_hook(3, lambda ctx: seen.append(ctx.generator.training) or {"score": ctx.step * 2})
    trainer.add_eval_hook(2, lambda ctx: 1 / 0, name="broken")
    records = []
    trainer.add_callback("metrics", records.append)
    result = trainer.run()
    assert [r.get("eval") for r in records] == [None, None, {"score": 6}, None, None, {"score": 12}]
    assert seen == [False, False]  # the hook sees the generator in eval mode
    assert "broken" not in records[1] and any("The broken hook failed at step 2" in w for w in records[1]["warnings"])
    assert len([w for w in result.warnings if "broken" in w]) == 1


def test_load_model_of_a_run_picks_latest_good_before_the_export(tmp_path, data):
    result = Trainer(config(max_steps=8, checkpoint_every=4), data, runs_dir=tmp_path).run()
    (result.run_dir / "model.safetensors").unlink()
    bundle = load_model(result.run_dir)
    assert bundle.source.name == "latest_good.safetensors"
    assert bundle.sha256 == load_model(result.run_dir / "checkpoints" / "ckpt_0000008.safetensors").sha256


def test_without_a_runs_dir_nothing_is_written(tmp_path, data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = Trainer(config(max_steps=4, checkpoint_every=2, sample_every=2), data).run()
    assert result.run_dir is None and result.model_path is None and list(tmp_path.iterdir()) == []


def test_cli_trains_on_a_folder_and_resumes_with_the_same_relative_flag(tmp_path, monkeypatch, capsys):
    from facestudio.cli import main

    faces = tmp_path / "faces"
    faces.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(faces / f"{i}.png")
    (faces / "notes.txt").write_text("not an image")
    monkeypatch.chdir(tmp_path)
    flags = ["--data", "faces", "--size", "32", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "8", "--threads", "1", "--quiet"]
    assert main(["train", *flags, "--max-steps", "3", "--runs-dir", "runs"]) == 0
    run = tmp_path / "runs" / "00000-dcgan"
    assert read_run_config(run).data == str(faces) and read_run_config(run).augment_ops(20)  # auto: small set
    assert main(["train", "--resume", str(run), *flags, "--max-steps", "5"]) == 0
    err = capsys.readouterr().err
    assert "faces: 20 images at 32 px" in err and "Finished at step 5 (max_steps)." in err
    assert "Resumed from step 3 (ckpt_0000003.safetensors)." in err  # the terminal says where it went on from
    assert [r["step"] for r in read_metrics(run / "metrics.jsonl")] == [1, 2, 3, 4, 5]


def test_asking_for_a_missing_gpu_is_a_clear_error(data):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        Trainer(config(device="cuda"), data)


def test_cli_eval_every_logs_quality_figures_of_the_ema_generator(tmp_path, capsys):
    from facestudio.cli import main

    flags = ["--data-count", "64", "--size", "32", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "8", "--threads", "1", "--quiet"]
    assert main(["train", *flags, "--max-steps", "4", "--eval-every", "2", "--eval-n", "24", "--runs-dir", str(tmp_path)]) == 0
    run = tmp_path / "00000-dcgan"
    records = read_metrics(run / "metrics.jsonl")
    assert [("quality" in r) for r in records] == [False, True, False, True]
    first, second = records[1]["quality"], records[3]["quality"]
    for q in (first, second):
        assert q["n"] == 24 and q["mode"] == "fast" and q["fd"] > 0
        assert 0 <= q["precision"] <= 1 and 0 <= q["recall"] <= 1 and q["diversity"] > 0 and 0 <= q["factor_tv"] <= 1
    assert second["fd"] != first["fd"]  # same latents each time: only the model changed
    note = "Quality figures of the EMA generator every 2 steps from 24 faces"
    assert note in (run / "log.txt").read_text() and "32 px faces are resized first" in capsys.readouterr().err
    assert read_run_config(run).eval_n == 24
    # The factor encoder knows only the built-in faces: a folder run cannot ask for its figures.
    (tmp_path / "faces").mkdir()
    assert main(["train", "--data", str(tmp_path / "faces"), "--eval-every", "10", "--runs-dir", str(tmp_path)]) == 2
    assert "only apply to runs on --data synthetic" in capsys.readouterr().err
