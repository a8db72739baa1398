"""The quality benchmark's fairness machinery (the benchmark itself is long: tests/bench/bench_quality.py)."""

import subprocess
import sys

import torch

from facestudio.metrics.evaluation import generate_uint8
from facestudio.cli.benches.quality_bench import TutorialGenerator, _capture_generators, cpu_seconds


def test_cpu_seconds_count_finished_child_processes():
    before = cpu_seconds()
    burn = "import time\nwhile time.process_time() < 0.3:\n    pass\n"
    subprocess.run([sys.executable, "-c", burn], check=True)
    # The child burnt >= 0.3 s of CPU in its own process; a wall clock would not tell.
    assert cpu_seconds() - before >= 0.3


def test_the_reference_loop_hands_over_its_generator_unchanged():
    from facestudio.cli.benches.train_bench import reference_module

    reference = reference_module()
    original = reference.Generator
    made = _capture_generators(reference)
    net = reference.Generator(100)
    assert made == [net] and isinstance(net, original)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in original(100).parameters())
    # Another copy of the module (e.g. `facestudio bench train`) is not affected.
    assert reference_module().Generator is not reference.Generator


def test_tutorial_generator_scores_in_either_batch_norm_mode():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.ConvTranspose2d(8, 3, 4, 1, 0), torch.nn.BatchNorm2d(3), torch.nn.Tanh())
    with torch.no_grad():
        net[1].weight.uniform_(0.5, 1.5)
        net[1].bias.uniform_(-0.5, 0.5)
    net.eval()
    z = torch.randn(6, 8)
    batch = TutorialGenerator(net, 8, batch_stats=True)
    running = TutorialGenerator(net, 8, batch_stats=False)
    assert batch.config.nz == 8
    a, b = generate_uint8(batch, z), generate_uint8(running, z)
    assert a.shape == (6, 3, 4, 4) and not torch.equal(a, b)
    with torch.no_grad():
        raw = net[0](z.reshape(6, 8, 1, 1))
        bn = net[1]
        by_batch = (raw - raw.mean((0, 2, 3), keepdim=True)) / torch.sqrt(raw.var((0, 2, 3), unbiased=False, keepdim=True) + bn.eps)
        by_running = (raw - bn.running_mean.view(1, 3, 1, 1)) / torch.sqrt(bn.running_var.view(1, 3, 1, 1) + bn.eps)
        w, c = bn.weight.view(1, 3, 1, 1), bn.bias.view(1, 3, 1, 1)
        # Batch statistics (the tutorial's way of drawing faces) vs the running statistics.
        assert torch.allclose(batch(z), torch.tanh(w * by_batch + c), atol=1e-5)
        assert torch.allclose(running(z), torch.tanh(w * by_running + c), atol=1e-5)
    # The trained network itself is a private copy: scoring never changes it.
    assert not net.training and batch.net is not net
