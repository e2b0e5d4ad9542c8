"""Solara's environment for the web page: offline assets, no telemetry.  Import before solara.

solara reads these variables once, when it is first imported; :func:`apply_solara_env`
also sets solara's settings objects, for when solara was imported first (``solara run``).
"""

from __future__ import annotations

import os

SOLARA_ENV = {
    # no usage reports to mixpanel.com
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    # serve the front-end files from the local copy installed by solara-assets
    # (<venv>/share/solara/cdn) under /_solara/cdn instead of a public CDN
    "SOLARA_ASSETS_PROXY": "True",
}
"""Environment solara reads when it is first imported (values already set are kept)."""

for _key, _value in SOLARA_ENV.items():
    os.environ.setdefault(_key, _value)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def apply_solara_env() -> None:
    """Make solara's settings follow :data:`SOLARA_ENV` even if solara was imported before this module."""
    import solara.server.settings as server_settings
    import solara.settings

    server_settings.telemetry.mixpanel_enable = _env_flag("SOLARA_TELEMETRY_MIXPANEL_ENABLE")
    solara.settings.assets.proxy = _env_flag("SOLARA_ASSETS_PROXY")


apply_solara_env()
