"""``python -m modeltune.controller JOB``: run a tuning job's controller in the background.

Its output goes to the tuning job's ``controller.log``: what it did (one line each, with the
time in seconds since the epoch) and, if it has to give up, one line saying why.
"""

from __future__ import annotations

import logging
import signal
import sys

from modeltune.controller.loop import Controller
from modeltune.errors import ModeltuneError
from modeltune.store import Store


def main() -> None:
    """Run the named tuning job (store from ``$MODELTUNE_STORE`` / ``$MODELTUNE_HOME``)."""
    logging.basicConfig(level=logging.INFO, format="%(created).3f %(name)s: %(message)s", stream=sys.stderr)
    try:
        controller = Controller(Store(), sys.argv[1])
        signal.signal(signal.SIGTERM, lambda *_: controller.request_stop())
        controller.run()
    except ModeltuneError as exc:
        logging.getLogger("modeltune.controller").error("%s", exc)
        sys.exit(2)


if __name__ == "__main__":
    main()
