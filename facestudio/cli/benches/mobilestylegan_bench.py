"""`facestudio bench style --model mobilestylegan-ffhq`: native PyTorch vs OpenVINO, side by side.

The `style` bench (facestudio.cli.benches.stylegan_bench) owns the command's options and hands
this model id to `run` here.

Same IR, same inputs, one process, runs interleaved (native, OpenVINO default,
OpenVINO f32, native, ...) so that load from other programs hits every contender alike;
medians per 1024 px image, their ratio, the mapping, the cheap preview outputs and the
start-up time from the converted cache (in this process, and a fresh interpreter
importing FaceStudio and opening the model). OpenVINO's default precision on CPUs with
bfloat16 units is bfloat16 (reported as `openvino_precision`); native runs float32.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Callable


MIN_REPEATS = 7  # interleaved images per contender; at least this many whatever --repeats says


def _median_ms(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    value = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return round(value * 1000.0, 2)


def _interleaved(contenders: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    for fn in contenders.values():  # warm-up: first calls allocate and pick kernels
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def _startup_fresh_process() -> float:
    code = ("import time; t = time.perf_counter(); from facestudio.models import load_model; "
            "load_model('mobilestylegan-ffhq'); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ.copy())
    return float(out.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> dict:
    import numpy as np
    import torch

    from facestudio.errors import ConfigError
    from facestudio.models import load_model
    from facestudio.models.mobilestylegan.convert import is_model_id
    from facestudio.models.mobilestylegan.source import require_ir_source

    if not is_model_id(args.model):
        raise ConfigError(f"This bench measures the photographic model: use --model mobilestylegan-ffhq, not {args.model!r}.")
    source = require_ir_source()
    figures: dict = {"threads": torch.get_num_threads(), "loadavg_start": os.getloadavg()[0]}

    start = time.perf_counter()
    bundle = load_model("mobilestylegan-ffhq")  # converts on the very first run, then opens the cache
    figures["first_open_s"] = round(time.perf_counter() - start, 3)
    opens = []
    for _ in range(3):
        start = time.perf_counter()
        bundle = load_model("mobilestylegan-ffhq")
        opens.append(time.perf_counter() - start)
    figures["startup_from_cache_ms"] = _median_ms(opens)
    figures["startup_fresh_process_s"] = round(_startup_fresh_process(), 3)

    net = bundle.viewing_generator
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((1, net.z_dim)).astype(np.float32))
    with torch.inference_mode():
        ws = net.mapping(z)
    w = ws[:, 0].numpy().copy()
    native: dict[str, Callable[[], object]] = {"native": lambda: net.synthesis(ws)}
    mapping: dict[str, Callable[[], object]] = {"native": lambda: net.mapping(z)}
    try:
        import openvino as ov
    except ImportError:
        figures["openvino"] = "not installed (pip install openvino, or the test extra)"
        ov = None
    if ov is not None:
        core = ov.Core()
        figures["openvino_version"] = ov.__version__ if hasattr(ov, "__version__") else ov.get_version()
        figures["openvino_precision"] = str(core.get_property("CPU", "INFERENCE_PRECISION_HINT"))
        syn_default = core.compile_model(str(source.synthesis_xml), "CPU").create_infer_request()
        syn_f32 = core.compile_model(str(source.synthesis_xml), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()
        map_default = core.compile_model(str(source.mapping_xml), "CPU").create_infer_request()
        native["openvino"] = lambda: syn_default.infer({0: w})
        native["openvino_f32"] = lambda: syn_f32.infer({0: w})
        zn = z.numpy()
        mapping["openvino"] = lambda: map_default.infer({0: zn})
    with torch.inference_mode():
        repeats = max(args.repeats, MIN_REPEATS)
        image = {name: _median_ms(v) for name, v in _interleaved(native, repeats).items()}
        figures["image_1024_ms"] = image
        figures["mapping_ms"] = {name: _median_ms(v) for name, v in _interleaved(mapping, 50).items()}
        previews = {str(r): (lambda r=r: net.synthesis_preview(ws, r)) for r in net.preview_resolutions}
        figures["preview_ms"] = {f"{name}px": ms for name, ms in
                                 ((n, _median_ms(v)) for n, v in _interleaved(previews, repeats).items())}
    if "openvino" in image:
        figures["native_over_openvino"] = round(image["native"] / image["openvino"], 3)
        figures["native_over_openvino_f32"] = round(image["native"] / image["openvino_f32"], 3)
    figures["loadavg_end"] = os.getloadavg()[0]
    return figures
