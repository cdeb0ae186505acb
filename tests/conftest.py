"""Fixtures: `app`, `client`, `runner` with a temp crop store each; a loaded default registry."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import pytest

from server import free_port

# Tests never touch the user's Hugging Face cache or the internet, nor pick up a developer's
# settings. huggingface_hub reads these when it is imported, so they are set before anything is.
HUB_PORT = free_port()
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="ananacare-hf-")
atexit.register(shutil.rmtree, os.environ["HF_HOME"], ignore_errors=True)
os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{HUB_PORT}"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("REDIS_URL", None)
for _key in [k for k in os.environ if k.startswith("ANANACARE_")]:
    del os.environ[_key]

from ananacare import create_app, load_models  # noqa: E402
from ananacare.models import ModelRegistry, load_specs  # noqa: E402
from build_models import build_timm_folder  # noqa: E402
from hub import FakeHub  # noqa: E402
from redis_server import RedisServer  # noqa: E402

MODEL_DATA = Path(str(resources.files("ananacare.models"))) / "data"  # the shipped MediaPipe files
# The default file's `path:` sources are relative to its own folder: a copy elsewhere names them in full.
DEFAULT_SPEC = (resources.files("ananacare.models").joinpath("default_models.toml").read_text()
                .replace('"path:data/', f'"path:{MODEL_DATA}/'))


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


@pytest.fixture(scope="session")
def hub():
    """The Hugging Face hub stand-in that HF_ENDPOINT points at."""
    server = FakeHub(HUB_PORT).start()
    yield server
    server.stop()


def _build_tflite(kind, folder):
    out = folder / f"{kind}.tflite"
    script = Path(__file__).with_name("build_models.py")
    subprocess.run([sys.executable, str(script), kind, str(out)], check=True, capture_output=True, timeout=300)
    return out.read_bytes()


@pytest.fixture(scope="session")
def colour_tflite(tmp_path_factory):
    """Bytes of the TFLite colour classifier, built once by TensorFlow's converter in a subprocess."""
    return _build_tflite("colour", tmp_path_factory.mktemp("tflite"))


@pytest.fixture(scope="session")
def failing_tflite(tmp_path_factory):
    """Bytes of a TFLite model that loads and allocates but fails when invoked."""
    return _build_tflite("failing", tmp_path_factory.mktemp("tflite"))


@pytest.fixture(scope="session")
def skin_timm(tmp_path_factory):
    """Files ({name: bytes}) of a tiny timm classifier in the hub layout."""
    return build_timm_folder(tmp_path_factory.mktemp("timm-skin"))


@pytest.fixture
def write_spec(tmp_path):
    """Write a models file: the default face models plus extra TOML; returns its path."""
    def write(extra, with_defaults=True):
        path = tmp_path / "models.toml"
        path.write_text((DEFAULT_SPEC if with_defaults else "") + "\n" + extra)
        return str(path)
    return write


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a loopback port for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()
