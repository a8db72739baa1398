"""evaluate() and `facestudio eval` on a tiny model with small n (fast)."""

import json

import pytest
import torch

from facestudio.cli import main
from facestudio.metrics.evaluation import evaluate
from facestudio.metrics.factor_encoder import EncoderArch, FactorEncoder, LoadedEncoder, heads_for_synthetic_faces, save_encoder
from facestudio.metrics.reference_stats import REFERENCE_SEED, reference_for
from facestudio.models import new_bundle, save_model

N = 24
KEYS = {"fd", "precision", "recall", "diversity", "factor_tv", "factors", "n", "mode", "seed", "image_size", "k", "reference", "encoder", "seconds"}


@pytest.fixture(scope="module")
def small_encoder():
    """A small untrained encoder with the real factor heads (the metric code does not care)."""
    from facestudio.data.synthetic_faces import FACTORS

    torch.manual_seed(0)
    heads = heads_for_synthetic_faces(torch.rand(50, len(FACTORS)))
    return LoadedEncoder(FactorEncoder(heads, EncoderArch(width=4, feature_dim=16)).eval(), sha256="0" * 64, source=None, card={})


def test_evaluate_keys_ranges_and_restored_mode(tiny_config, small_encoder):
    bundle = new_bundle(tiny_config, seed=0)
    g = bundle.viewing_generator
    g.train()
    result = evaluate(g, n=N, seed=1, encoder=small_encoder)
    assert g.training, "the trainer's live generator must be left in training mode"
    assert KEYS <= set(result)
    assert result["n"] == N and result["mode"] == "fast" and result["image_size"] == 32
    assert result["reference"]["seed"] == REFERENCE_SEED and result["reference"]["n"] == N
    assert result["fd"] >= 0 and 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert result["diversity"] > 0
    assert set(result["factors"]) == set(small_encoder.encoder.names)
    json.dumps(result)
    # Same latents -> same figures; other latents -> other figures.
    again = evaluate(bundle, n=N, seed=1, encoder=small_encoder)
    assert again["fd"] == pytest.approx(result["fd"], rel=1e-9)
    assert evaluate(bundle, n=N, seed=2, encoder=small_encoder)["fd"] != pytest.approx(result["fd"], rel=1e-9)


def test_reference_is_cached_on_disk_and_rebuilt_when_damaged(small_encoder, monkeypatch):
    import facestudio.data.synthetic_faces as sf
    import facestudio.metrics.reference_stats as rs

    first = reference_for(small_encoder, 32, 20)
    files = list((sf.cache_dir() / "metrics").glob(f"reference-e{'0' * 16}-*-s32-*n20.safetensors"))
    assert len(files) == 1
    rs._MEMORY.clear()

    def no_render(*a, **k):
        raise AssertionError("the reference should come from the cache")

    monkeypatch.setattr(sf, "synthetic_faces", no_render)
    cached = reference_for(small_encoder, 32, 20)
    assert torch.equal(cached.features, first.features) and torch.equal(cached.stats.cov, first.stats.cov)

    # A damaged cache is ignored and rebuilt, never fatal.
    files[0].write_bytes(files[0].read_bytes()[:100])
    rs._MEMORY.clear()
    monkeypatch.undo()
    rebuilt = reference_for(small_encoder, 32, 20)
    assert torch.allclose(rebuilt.features, first.features)


def test_evaluate_rejects_bad_arguments(tiny_config, small_encoder):
    bundle = new_bundle(tiny_config, seed=0)
    with pytest.raises(ValueError):
        evaluate(bundle, n=3, encoder=small_encoder)
    with pytest.raises(TypeError):
        evaluate("not a model", n=N, encoder=small_encoder)


def test_eval_command_json_and_text(tiny_config, small_encoder, tmp_path, capsys):
    model = tmp_path / "tiny.safetensors"
    save_model(new_bundle(tiny_config, seed=0), model)
    enc = tmp_path / "enc.safetensors"
    save_encoder(small_encoder.encoder, enc)

    assert main(["eval", "--model", str(model), "--n", str(N), "--encoder", str(enc), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"fd", "precision", "recall", "diversity", "factors", "n", "seconds"} <= set(out)
    assert out["n"] == N and out["model"]["name"] == "tiny"

    assert main(["eval", "--model", str(model), "--n", str(N), "--encoder", str(enc)]) == 0
    text = capsys.readouterr().out
    assert "Frechet distance" in text and "fast mode" in text and "| glasses | binary |" in text


def test_eval_command_errors_are_sentences(tmp_path, capsys):
    assert main(["eval", "--model", str(tmp_path / "missing.safetensors"), "--n", str(N)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["eval", "--model", str(tmp_path / "missing.safetensors"), "--n", "2"]) == 2
    assert "too small" in capsys.readouterr().err


def test_quality_hook_gives_compact_plain_figures(tiny_config, small_encoder):
    from types import SimpleNamespace

    from facestudio.metrics.evaluation import quality_hook

    hook = quality_hook(n=N, encoder=small_encoder)
    g = new_bundle(tiny_config, seed=0).generator
    out = hook(SimpleNamespace(generator=g, step=100))
    assert {"fd", "precision", "recall", "diversity", "factor_tv", "n", "mode", "seconds", "factors_tv"} == set(out)
    assert out["n"] == N and set(out["factors_tv"]) == set(small_encoder.encoder.names)
    json.dumps(out)
    assert hook(SimpleNamespace(generator=g, step=200))["fd"] == pytest.approx(out["fd"], rel=1e-9)


def test_stale_encoder_is_flagged(small_encoder):
    from dataclasses import replace

    from facestudio.data.synthetic_faces import RENDERER_VERSION
    from facestudio.metrics.evaluation import encoder_staleness

    assert encoder_staleness(replace(small_encoder, card={"renderer_version": RENDERER_VERSION})) == ""
    stale = encoder_staleness(replace(small_encoder, card={"renderer_version": RENDERER_VERSION + 1}))
    assert "train_factor_encoder" in stale and str(RENDERER_VERSION) in stale
