"""``python -m benchmarks.throughput.worker_probe [options]``: a modeltune worker whose store time is measured."""

from __future__ import annotations

import sys

from benchmarks.throughput import probe


def main() -> None:
    probe.install()
    probe.dump_at_exit()
    from modeltune.cli import main as modeltune

    sys.argv = ["modeltune", "worker", *sys.argv[1:]]
    modeltune()


if __name__ == "__main__":
    main()
