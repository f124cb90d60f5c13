"""``python -m modeltune.controller JOB``: run a tuning job's controller in the background."""

from __future__ import annotations

import signal
import sys

from modeltune.controller.loop import Controller
from modeltune.store import Store


def main() -> None:
    """Run the named tuning job (store from ``$MODELTUNE_STORE`` / ``$MODELTUNE_HOME``)."""
    controller = Controller(Store(), sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: controller.request_stop())
    controller.run()


if __name__ == "__main__":
    main()
