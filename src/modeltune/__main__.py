"""``python -m modeltune``: the command line."""

from modeltune.cli import main

main()
