"""chopay: the register of Vietnam's cashless markets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | dict[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    ``config`` is a config name (``development``, ``production``, ``testing``) or a dict
    of overrides applied on top of the ``testing`` config (what the test suite passes).
    """
    # Imported here so that the pure libraries (chopay.vietqr, chopay.printing renderers)
    # can be used without loading Flask.
    from flask import Flask

    from chopay import wiring
    from chopay.config import config_class

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    overrides: dict[str, Any] = {}
    if isinstance(config, dict):
        overrides = config
        config = "testing"
    cls = config_class(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(cls.from_env(app.instance_path))
    app.config.from_mapping(overrides)

    wiring.register_extensions(app)
    wiring.register_blueprints(app)
    wiring.register_error_handlers(app)
    wiring.register_cli(app)
    wiring.register_template_helpers(app)
    wiring.register_security_headers(app)
    wiring.register_proxy_fix(app)  # client address behind nginx (CHOPAY_TRUSTED_PROXIES)
    return app
