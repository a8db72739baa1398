"""FaceStudio's training engine (Qt-free): `Trainer`, `TrainConfig`, run folders, metrics.

    from trainer import Trainer, TrainConfig, read_metrics
    result = Trainer(TrainConfig(max_steps=1000), runs_dir="runs").run()
    Trainer.resume(result.run_dir, max_steps=2000).run()

The same code serves `facestudio train`, the app's training worker and torchrun.
"""

import facestudio  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch loads)
from trainer.config import TrainConfig
from trainer.metrics_log import read_metrics
from trainer.trainer import EvalContext, StopReason, TrainResult, Trainer, read_run_config

__all__ = ["Trainer", "TrainConfig", "TrainResult", "StopReason", "EvalContext", "read_metrics", "read_run_config"]
