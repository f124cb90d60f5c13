"""What a training job needs (CPUs, GPUs, memory, custom resources) and what this machine has, for placing
training jobs.

A training job's ``training.resources`` is either a mapping (``{cpus: 2, gpus: 1, memory_gb: 8,
custom: {a100: 1}}``) or a SageMaker instance type from ``INSTANCE_TYPES`` (``ml.g5.2xlarge``). The
local runner reserves a request in a ``ResourcePool`` of this machine before it starts a training
job and gives the job the GPUs it reserved (``CUDA_VISIBLE_DEVICES``); Ray places it by the same
request. This machine's custom resources are those declared in ``MODELTUNE_RESOURCES``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from modeltune.errors import SpecError

# SageMaker training instance types: vCPUs, GPUs, memory in GiB (from the instance types' published specs).
INSTANCE_TYPES: dict[str, tuple[int, int, float]] = {
    "ml.m5.large": (2, 0, 8),
    "ml.m5.xlarge": (4, 0, 16),
    "ml.m5.2xlarge": (8, 0, 32),
    "ml.m5.4xlarge": (16, 0, 64),
    "ml.m5.12xlarge": (48, 0, 192),
    "ml.m5.24xlarge": (96, 0, 384),
    "ml.c5.xlarge": (4, 0, 8),
    "ml.c5.2xlarge": (8, 0, 16),
    "ml.c5.4xlarge": (16, 0, 32),
    "ml.c5.9xlarge": (36, 0, 72),
    "ml.c5.18xlarge": (72, 0, 144),
    "ml.g4dn.xlarge": (4, 1, 16),
    "ml.g4dn.2xlarge": (8, 1, 32),
    "ml.g4dn.12xlarge": (48, 4, 192),
    "ml.g5.xlarge": (4, 1, 16),
    "ml.g5.2xlarge": (8, 1, 32),
    "ml.g5.4xlarge": (16, 1, 64),
    "ml.g5.12xlarge": (48, 4, 192),
    "ml.g5.48xlarge": (192, 8, 768),
    "ml.p3.2xlarge": (8, 1, 61),
    "ml.p3.8xlarge": (32, 4, 244),
    "ml.p3.16xlarge": (64, 8, 488),
    "ml.p4d.24xlarge": (96, 8, 1152),
}
# Declares this machine's GPUs (their ids, comma-separated; empty for none) instead of asking nvidia-smi.
GPUS_VARIABLE = "MODELTUNE_GPUS"
# Declares this machine's custom resources, as Ray's --resources does for a node: '{"a100": 2}' (JSON).
RESOURCES_VARIABLE = "MODELTUNE_RESOURCES"


def instance_type_resources(name: str) -> dict[str, Any]:
    """The resources of a SageMaker instance type, as a ``training.resources`` mapping.

    Raises:
        ValueError: the name is not in ``INSTANCE_TYPES``.
    """
    try:
        cpus, gpus, memory_gb = INSTANCE_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(INSTANCE_TYPES))
        raise ValueError(
            f"{name!r} is not a known instance type; use one of {known}, or give {{cpus, gpus, memory_gb}}"
        ) from None
    return {"cpus": cpus, "gpus": gpus, "memory_gb": memory_gb}


class Request(Protocol):
    """What a training job asks for (``spec.models.Resources`` is one)."""

    @property
    def cpus(self) -> float: ...
    @property
    def gpus(self) -> int: ...
    @property
    def memory_gb(self) -> float | None: ...
    @property
    def custom(self) -> Mapping[str, float]: ...


def detect_gpus() -> list[str]:
    """This machine's GPU ids: from ``MODELTUNE_GPUS`` when set, else from ``nvidia-smi``, else none."""
    declared = os.environ.get(GPUS_VARIABLE)
    if declared is not None:
        return [part.strip() for part in declared.split(",") if part.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listed = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in listed.splitlines() if line.strip()]


def declared_resources() -> dict[str, float]:
    """This machine's custom resources, as declared in ``MODELTUNE_RESOURCES`` (none when unset).

    Raises:
        SpecError: the variable is not a JSON object of names and non-negative amounts.
    """
    text = os.environ.get(RESOURCES_VARIABLE, "").strip()
    if not text:
        return {}
    try:
        declared = json.loads(text)
    except ValueError:
        declared = None
    if not isinstance(declared, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in declared.values()
    ):
        raise SpecError(
            f"{RESOURCES_VARIABLE} must be a JSON object of resource names and amounts, e.g. "
            f"{RESOURCES_VARIABLE}='{{\"a100\": 2}}'; it is {text!r}"
        )
    return {str(name): float(amount) for name, amount in declared.items()}


def _memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return math.inf


@dataclass(frozen=True)
class Machine:
    """What one machine offers training jobs."""

    cpus: float
    gpus: tuple[str, ...]
    memory_gb: float
    custom: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def detect(cls) -> Machine:
        """This machine: its CPUs, its GPUs (``detect_gpus``), its memory and its declared custom resources."""
        return cls(float(os.cpu_count() or 1), tuple(detect_gpus()), _memory_gb(), declared_resources())

    def why_not(self, request: Request) -> str | None:
        """Why ``request`` can never run here, or None when it fits an idle machine."""
        if request.gpus > len(self.gpus):
            return (
                f"training.resources asks for {request.gpus} GPUs but this machine has {len(self.gpus)} "
                f"(found by nvidia-smi or declared in {GPUS_VARIABLE}); ask for fewer"
            )
        if request.cpus > self.cpus:
            return (
                f"training.resources asks for {request.cpus:g} CPUs but this machine has {self.cpus:g}; ask for fewer"
            )
        if request.memory_gb is not None and request.memory_gb > self.memory_gb:
            return (
                f"training.resources asks for {request.memory_gb:g} GB of memory but this machine has "
                f"{self.memory_gb:.1f}; ask for less"
            )
        for name, amount in sorted(request.custom.items()):
            have = self.custom.get(name, 0.0)
            if amount > have:
                return (
                    f"training.resources asks for {amount:g} {name} but this machine declares {have:g} "
                    f"(in {RESOURCES_VARIABLE}, e.g. {RESOURCES_VARIABLE}='{{\"{name}\": {amount:g}}}'); "
                    "declare what it has, ask for less, or run on a Ray cluster that has it"
                )
        return None


@dataclass(frozen=True)
class Allocation:
    """What one training job holds: CPUs, the ids of its GPUs, memory in GB, custom resources."""

    cpus: float
    gpus: tuple[str, ...] = ()
    memory_gb: float = 0.0
    custom: Mapping[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """A JSON object, kept beside the training job so a new controller knows what it holds."""
        return {"cpus": self.cpus, "gpus": list(self.gpus), "memory_gb": self.memory_gb, "custom": dict(self.custom)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Allocation:
        """The allocation ``as_json`` wrote."""
        custom = {str(name): float(amount) for name, amount in data.get("custom", {}).items()}
        return cls(float(data["cpus"]), tuple(str(g) for g in data["gpus"]), float(data["memory_gb"]), custom)


@dataclass
class ResourcePool:
    """A machine's CPUs, GPUs, memory and custom resources, reserved by training jobs while they run.

    A request is granted only when it fits what is left, so running training jobs never ask for
    more than the machine has; each gets GPUs no other running job holds.
    """

    machine: Machine
    held: dict[str, Allocation] = field(default_factory=dict)

    def reserve(self, name: str, request: Request) -> Allocation | None:
        """Reserve ``request`` for the training job ``name``; None while it does not fit."""
        used_gpus = {gpu for allocation in self.held.values() for gpu in allocation.gpus}
        free_gpus = [gpu for gpu in self.machine.gpus if gpu not in used_gpus]
        cpus_left = self.machine.cpus - sum(a.cpus for a in self.held.values())
        memory_left = self.machine.memory_gb - sum(a.memory_gb for a in self.held.values())
        memory = request.memory_gb or 0.0
        custom_left = {
            name: amount - sum(a.custom.get(name, 0.0) for a in self.held.values())
            for name, amount in self.machine.custom.items()
        }
        # A small tolerance, so that fractional amounts (e.g. 0.1 CPU ten times) add up to a whole one.
        if (
            request.gpus > len(free_gpus)
            or request.cpus > cpus_left + 1e-9
            or memory > memory_left + 1e-9
            or any(amount > custom_left.get(name, 0.0) + 1e-9 for name, amount in request.custom.items())
        ):
            return None
        allocation = Allocation(request.cpus, tuple(free_gpus[: request.gpus]), memory, dict(request.custom))
        self.held[name] = allocation
        return allocation

    def hold(self, name: str, allocation: Allocation) -> None:
        """Count an allocation made earlier (by a previous controller) as held."""
        self.held[name] = allocation

    def release(self, name: str) -> None:
        """Give back what ``name`` held (no-op if it held nothing)."""
        self.held.pop(name, None)
