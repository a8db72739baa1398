"""Data-parallel training across processes and machines with torch.distributed.

Launched by torchrun, which sets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR for each
process; without those variables everything here is a no-op for one process. Each
process trains on its own slice of the same seeded permutation, DistributedDataParallel
averages gradients, and only rank 0 writes files. gloo on CPU, nccl on GPUs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    comm_device: str = "cpu"  # nccl reduces CUDA tensors only

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def all_reduce(self, tensor: torch.Tensor, op: str = "sum") -> torch.Tensor:
        """`tensor` reduced over all processes, on the tensor's device; itself for one process."""
        if not self.enabled:
            return tensor
        t = tensor.to(self.comm_device, copy=True)
        dist.all_reduce(t, op={"sum": dist.ReduceOp.SUM, "min": dist.ReduceOp.MIN, "max": dist.ReduceOp.MAX}[op])
        return t.to(tensor.device)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed(device_type: str) -> Distributed:
    """Join the process group torchrun set up (once per process); one process -> no-op."""
    if not launched_by_torchrun():
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    return Distributed(
        comm_device=f"cuda:{local_rank % max(1, torch.cuda.device_count())}" if device_type == "cuda" else "cpu",
        rank=dist.get_rank(),
        world_size=dist.get_world_size(),
        local_rank=local_rank,
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", "1")),
    )


def shutdown_distributed(finished: bool = True) -> None:
    """Leave the process group. After a finished run all ranks meet at a barrier first: a rank
    that tears gloo down while another still has a collective in flight can abort at exit
    ("terminate called without an active exception", seen once in CI after a finished
    2-process run). After an error there is no barrier: a peer in another collective would
    wait on it until the process group's timeout."""
    if dist.is_available() and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """The torch device for the `device` setting ("auto", "cpu", "cuda") of process `local_rank`."""
    from facestudio.errors import ConfigError

    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for, but this PyTorch sees no CUDA GPU; use --device cpu or auto.")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def set_threads(threads: int | None, processes: Distributed, device: torch.device) -> None:
    """The thread count asked for; else, with several processes on one machine, a share of its cores each."""
    if threads:
        torch.set_num_threads(threads)
    elif processes.enabled and device.type == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // processes.local_world_size))


def wrap_for_processes(module: torch.nn.Module, processes: Distributed, device: torch.device) -> torch.nn.Module:
    """`module` in DistributedDataParallel when several processes train (gradients averaged, buffers
    such as batch-norm statistics following rank 0 at each forward); else `module` itself."""
    if not processes.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    return DDP(module, device_ids=ids, forward_sync_buffers=True)
