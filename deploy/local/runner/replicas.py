"""How many instances of each service run: `up --replicas 2` or `--replicas coding=2,claims=3`,
remembered in var/run/replicas.json for the next `up`; which instances exist right now."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from .config import MAX_REPLICAS, REPLICAS_FILE, SERVICES, Config, instance_name, parse_instance
from .process import service_instances
from .report import StackError

_SPEC = re.compile(r"^(?:(?P<all>\d+)|(?P<pairs>[a-z]+=\d+(?:,[a-z]+=\d+)*))$")


def parse_replicas(spec: str, current: Mapping[str, int]) -> dict[str, int]:
    """`N` for every service, or `name=N,...` for those named (the others keep `current`)."""
    match = _SPEC.match(spec.strip().replace(" ", ""))
    if match is None:
        raise StackError("stack", f"--replicas takes N or NAME=N[,NAME=N...], got {spec!r}")
    if match["all"]:
        wanted = dict.fromkeys(SERVICES, int(match["all"]))
    else:
        wanted = dict(current)
        for pair in match["pairs"].split(","):
            name, _, count = pair.partition("=")
            if name not in SERVICES:
                raise StackError(
                    "stack", f"--replicas: {name!r} is not one of {', '.join(SERVICES)}"
                )
            wanted[name] = int(count)
    for name, count in wanted.items():
        if not 1 <= count <= MAX_REPLICAS:
            raise StackError("stack", f"--replicas: {name}={count}, but 1 to {MAX_REPLICAS} run")
    return wanted


def load_replicas(cfg: Config) -> dict[str, int]:
    """The counts the last `up --replicas` asked for (1 each before any)."""
    counts = dict.fromkeys(SERVICES, 1)
    try:
        saved = json.loads((cfg.run_dir / REPLICAS_FILE).read_text())
    except (OSError, ValueError):
        return counts
    for name in SERVICES:
        value = saved.get(name) if isinstance(saved, dict) else None
        if isinstance(value, int) and 1 <= value <= MAX_REPLICAS:
            counts[name] = value
    return counts


def save_replicas(cfg: Config, counts: Mapping[str, int]) -> None:
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / REPLICAS_FILE).write_text(json.dumps(dict(counts), sort_keys=True) + "\n")


def wanted_instances(service: str, count: int) -> list[str]:
    return [instance_name(service, n) for n in range(1, count + 1)]


def present_instances(cfg: Config, service: str) -> list[str]:
    """Instances of `service` running, or with a pid file left, in number order."""
    numbers = {1}
    for pid_file in cfg.run_dir.glob(f"{service}-*.pid"):
        instance = parse_instance(pid_file.stem)
        if instance is not None and instance[0] == service:
            numbers.add(instance[1])
    for name in service_instances(cfg, service):
        instance = parse_instance(name)
        numbers.add(instance[1] if instance else 1)
    return [instance_name(service, n) for n in sorted(numbers)]
