"""Fixtures: `app`, `client`, `runner` with a temp crop store each; a loaded default registry."""
import os
import tempfile

import pytest

# Tests never touch the user's Hugging Face cache or pick up a developer's settings.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="ananacare-hf-")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _key in [k for k in os.environ if k.startswith("ANANACARE_")]:
    del os.environ[_key]

from ananacare import create_app, load_models  # noqa: E402
from ananacare.models import ModelRegistry, load_specs  # noqa: E402


@pytest.fixture
def make_app(tmp_path):
    """Build an app with a temp crop store and extra settings."""
    def build(**overrides):
        settings = {"TESTING": True, "CACHE_DIR": str(tmp_path / "crops"), **overrides}
        return create_app(settings)
    return build


@pytest.fixture
def app(make_app):
    """An app on the default models, loaded (as a gunicorn worker would be)."""
    application = make_app()
    load_models(application)
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def registry():
    """The default face models, loaded once for the pure-function tests."""
    models = ModelRegistry(load_specs(), threads=1)
    models.load_all()
    return models
