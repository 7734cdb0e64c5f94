"""One process of a multi-process training run: its place, its process group, the collectives.

zoo starts no processes here: torchrun (`torch.distributed.run`) does, called directly
(`torchrun --nproc-per-node N -m zoo train ...`) or through `zoo train --nproc N`
(zoo.train._launch). torchrun tells each process where it stands through the environment (RANK,
WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT); `World.from_env` reads
it and `process_group` joins the default group: gloo on CPU, nccl on CUDA with one GPU per
local rank. A job of one process trains on the single-process path, with no process group
and no DDP wrapper.

Rank 0 writes every file, and holds the run folder's lock for the whole run
(zoo.train._run.run_lock, taken inside `Group.share`, so that a refused lock stops every
rank); the other ranks only compute. What they must agree on travels as
tensors: the resumed train state as bytes (`Group.share`, no pickle), the epoch's summed
loss (`Group.all_reduce_sum`) and, at the end, a checksum of the weights
(`Group.check_same_weights`). Importing this module imports no torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from zoo._errors import ZooError

#: The collective backend for each `--device`.
BACKENDS = {"cpu": "gloo", "cuda": "nccl"}
#: What rank 0 announces before `Group.share` sends bytes.
_NOTHING, _BYTES, _FAILED = 0, 1, -1
#: Whether this process has joined a process group (see `exit_process`).
_joined = False
#: How long a rank waits for rank 0 to report an error and exit (torchrun then stops it).
PEER_GRACE_SECONDS = 30.0


class PeerFailed(ZooError):
    """Another rank (rank 0) failed; its own error message says why, so this one is quiet."""


def wait_for_rank_0() -> None:
    """Give rank 0 time to print its error and exit before this rank exits.

    torchrun stops every process as soon as one fails: were this quiet rank first, rank 0
    could be stopped before it said what went wrong. Rank 0's exit stops this wait.
    """
    import time

    time.sleep(PEER_GRACE_SECONDS)


@dataclass(frozen=True)
class World:
    """This process's place in a torchrun job."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> World | None:
        """The job torchrun started this process in; None outside torchrun."""
        env = os.environ if environ is None else environ
        if "RANK" not in env or "WORLD_SIZE" not in env:
            return None
        try:
            world = cls(
                rank=int(env["RANK"]),
                world_size=int(env["WORLD_SIZE"]),
                local_rank=int(env.get("LOCAL_RANK", env["RANK"])),
                local_world_size=int(env.get("LOCAL_WORLD_SIZE", env["WORLD_SIZE"])),
            )
        except ValueError:
            raise ZooError(
                f"RANK={env['RANK']!r} and WORLD_SIZE={env['WORLD_SIZE']!r} must be integers; "
                "start distributed training with torchrun or `zoo train --nproc N`."
            ) from None
        if not 0 <= world.rank < world.world_size:
            raise ZooError(
                f"RANK={world.rank} is outside WORLD_SIZE={world.world_size}; start "
                "distributed training with torchrun or `zoo train --nproc N`."
            )
        return world


def local_batch(batch_size: int, world_size: int) -> int:
    """Each process's share of the global `--batch-size`; an error unless it divides evenly."""
    if batch_size % world_size:
        lower = batch_size - batch_size % world_size
        choices = [b for b in (lower, lower + world_size) if b > 0]
        raise ZooError(
            f"--batch-size {batch_size} is the global batch, split evenly over "
            f"{world_size} processes, and {batch_size} is not a multiple of {world_size}. "
            f"Choose a multiple of {world_size} ({' or '.join(map(str, choices))}), or "
            "another number of processes."
        )
    return batch_size // world_size


def rank_seed(seed: int, epoch: int, rank: int) -> int:
    """The seed of rank `rank`'s global RNG (dropout) in epoch `epoch` of a distributed run.

    Each rank draws its own dropout masks; reseeding from (seed, epoch, rank) at every epoch
    makes `--resume` exact without saving each rank's RNG state.
    """
    import numpy as np

    (state,) = np.random.SeedSequence([seed, epoch, rank, 1]).generate_state(1, dtype=np.uint64)
    return int(state)


def weights_digest(state: Mapping[str, Any]) -> int:
    """A 56-bit checksum of a state dict's names and exact bytes (fits an int64 tensor)."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in state.items():
        digest.update(name.encode("utf-8"))
        raw = tensor.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8)
        digest.update(raw.numpy().tobytes())
    return int.from_bytes(digest.digest()[:7], "little")


class Group:
    """The default process group this process joined, with its rank and device."""

    def __init__(self, world: World, device: Any) -> None:
        self.world = world
        self.device = device

    @property
    def rank(self) -> int:
        return self.world.rank

    @property
    def world_size(self) -> int:
        return self.world.world_size

    def wrap(self, model: Any) -> Any:
        """`model` in DistributedDataParallel: rank 0's weights are broadcast, and every
        backward averages the gradients over the ranks."""
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def share(self, produce: Callable[[], bytes | None]) -> bytes | None:
        """Rank 0 calls `produce` and every rank returns its result.

        If `produce` raises on rank 0, it says so first: the other ranks raise `PeerFailed`
        instead of waiting for bytes that never come.
        """
        import torch
        import torch.distributed as dist

        header = torch.zeros(2, dtype=torch.int64, device=self.device)  # (status, size)
        payload: bytes | None = None
        if self.rank == 0:
            try:
                payload = produce()
            except Exception:
                header[0] = _FAILED
                dist.broadcast(header, src=0)
                raise
            header[0] = _NOTHING if payload is None else _BYTES
            header[1] = len(payload or b"")
        dist.broadcast(header, src=0)
        status, size = (int(v) for v in header.tolist())
        if status == _FAILED:
            raise PeerFailed("rank 0 failed to prepare the run")
        if status == _NOTHING:
            return None
        if payload is not None:
            buffer = torch.frombuffer(bytearray(payload), dtype=torch.uint8).to(self.device)
        else:
            buffer = torch.empty(size, dtype=torch.uint8, device=self.device)
        dist.broadcast(buffer, src=0)
        return payload if payload is not None else buffer.cpu().numpy().tobytes()

    def all_reduce_sum(self, tensor: Any) -> Any:
        """`tensor` summed over the ranks (in place; returned for convenience)."""
        import torch.distributed as dist

        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def check_same_weights(self, state: Mapping[str, Any]) -> None:
        """Raise on every rank unless every rank holds exactly the same weights.

        DDP keeps the replicas identical only as long as every rank applies the same
        averaged gradients with the same arithmetic; this proves that it did.
        """
        import torch
        import torch.distributed as dist

        digest = weights_digest(state)
        extremes = torch.tensor([digest, -digest], dtype=torch.int64, device=self.device)
        dist.all_reduce(extremes, op=dist.ReduceOp.MAX)
        high, low = int(extremes[0]), -int(extremes[1])
        if high != low:
            raise ZooError(
                f"The {self.world_size} processes ended with different weights (checksums "
                f"range from {low:014x} to {high:014x}; this rank's is {digest:014x}). "
                "Replicas stay identical only if every rank runs the same torch build on the "
                "same kind of device; the files written are rank 0's. Please report this "
                "with `zoo train --debug` output and the devices used."
            )


def rank_device(world: World, device: str) -> Any:
    """This rank's torch device: the CPU, or GPU number LOCAL_RANK (one GPU per process)."""
    import torch

    if device != "cuda":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ZooError(
            f"--device cuda: no CUDA device is available to torch {torch.__version__}. "
            "Use --device cpu."
        )
    count = torch.cuda.device_count()
    if world.local_rank >= count:
        raise ZooError(
            f"--device cuda: local rank {world.local_rank} needs GPU {world.local_rank}, but "
            f"this machine shows torch {count} GPU(s). Start at most {count} process(es) per "
            "machine (--nproc-per-node / --nproc)."
        )
    torch.cuda.set_device(world.local_rank)
    return torch.device("cuda", world.local_rank)


@contextlib.contextmanager
def process_group(world: World | None, device: str) -> Iterator[Group | None]:
    """Join the default process group for the duration of the block.

    None outside torchrun and in a job of one process: that trains exactly like a plain
    `zoo train`, without a process group or DDP.
    """
    if world is None or world.world_size == 1:
        yield None
        return
    import torch.distributed as dist

    if device not in BACKENDS:
        raise ZooError(f"Unknown device {device!r}; choose one of {', '.join(BACKENDS)}.")
    torch_device = rank_device(world, device)
    dist.init_process_group(
        BACKENDS[device], device_id=torch_device if torch_device.type == "cuda" else None
    )
    global _joined
    _joined = True
    try:
        yield Group(world, torch_device)
    finally:
        dist.destroy_process_group()


@contextlib.contextmanager
def rank_errors(world: World | None) -> Iterator[None]:
    """Errors of ranks other than 0 name their rank, so that N copies of one message read
    as such and an error of one rank alone says which."""
    try:
        yield
    except PeerFailed:
        raise
    except ZooError as exc:
        if world is None or world.rank == 0:
            raise
        raise ZooError(f"[rank {world.rank}] {exc}") from exc


def joined() -> bool:
    """Whether this process has joined a process group (and must leave by `exit_process`)."""
    return _joined


def exit_process(status: int) -> NoReturn:
    """End a process that joined a process group: flush stdout and stderr, then exit without
    the interpreter's finalization.

    With torch 2.13, a gloo process group used by DDP outlives `destroy_process_group`
    (DDP leaves references to it), and so do its worker threads. A worker that frees the
    last reference to a Python tensor (the input of the last collective) while the
    interpreter finalizes cannot take the GIL, and the process dies of SIGABRT ("terminate
    called without an active exception") after it finished its work: about one run in 30 on
    this 2-core machine. Every file zoo writes is complete (fsync, rename) before this
    point, so there is nothing left for finalization to do.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
