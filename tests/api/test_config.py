"""KINPASS_ENV=production refuses the conveniences that only make sense on a laptop."""
from __future__ import annotations

import base64

import pytest

from api.app import create_app
from services.core.settings import Settings

KEK = base64.b64encode(bytes(range(32))).decode()
GOOD = {"env": "production", "database_url": "postgresql://db.internal/kinpass", "kek": KEK,
        "jwt_secret": "s" * 48}


def test_a_complete_production_configuration_starts():
    Settings(**GOOD).check_production()


@pytest.mark.parametrize(("change", "complaint"), [
    ({"database_url": "sqlite:////srv/kinpass.db"}, "KINPASS_DATABASE_URL"),
    ({"kek": None}, "KINPASS_KEK or KINPASS_KMS_KEY_ID"),
    ({"jwt_secret": None}, "KINPASS_JWT_SECRET must be set"),
    ({"jwt_secret": "short-secret"}, "KINPASS_JWT_SECRET must hold at least 32 bytes"),
])
def test_production_refuses_development_defaults(change, complaint):
    with pytest.raises(RuntimeError, match=complaint):
        Settings(**{**GOOD, **change}).check_production()


def test_the_app_factory_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="refusing to start in production"):
        create_app({"env": "production", "data_dir": str(tmp_path)})
    assert not (tmp_path / "kinpass.db").exists()


def test_development_runs_on_the_embedded_defaults():
    settings = Settings.from_env({"env": "development"})
    settings.check_production()
    assert settings.database_url.startswith("sqlite")
