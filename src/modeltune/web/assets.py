"""The browser side of the charts: vega, vega-lite and vega-embed, served by the server itself.

vl-convert (the ``viz`` extra) carries these libraries and bundles them into one script on this
machine, so nothing comes from a CDN or the network. Bundling takes a few seconds, so the script is
kept in the user's cache folder once per vl-convert version and made in the background at start-up.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from modeltune.errors import ModeltuneError
from modeltune.extras import require

_lock = threading.Lock()


def cache_folder() -> Path:
    """Where the bundle is kept: ``$XDG_CACHE_HOME/modeltune`` (default ``~/.cache/modeltune``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "modeltune"


def vega_bundle(cache: Path | None = None) -> str:
    """The bundled vega + vega-lite + vega-embed script (defines ``window.vegaEmbed``).

    Raises:
        ModeltuneError: vl-convert (the ``viz`` extra) is not installed.
    """
    vl_convert = require("vl_convert", "viz", "charts in the console need", ModeltuneError)
    cache = cache or cache_folder()
    path = cache / f"vega-embed-{vl_convert.__version__}.js"
    with _lock:
        if path.is_file():
            return path.read_text(encoding="utf-8")
        script: str = vl_convert.javascript_bundle()
        cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(script, encoding="utf-8")
        partial.replace(path)  # a reader never sees half a file
        return script


def prepare(cache: Path | None = None) -> None:
    """Make the bundle in a background thread so the first page with charts does not wait for it."""

    def work() -> None:
        try:
            vega_bundle(cache)
        except ModeltuneError:
            pass  # the charts endpoint says how to install the viz extra

    threading.Thread(target=work, name="modeltune-vega-bundle", daemon=True).start()
