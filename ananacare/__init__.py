"""AnanaCare API: face photo validation, square face crops and face analysis."""
from flask import Flask

__version__ = "0.1.0"


def create_app(overrides=None):
    """Build the app: settings, extensions, blueprints, errors, CLI. No I/O beyond reading the
    models file, no model loading, no torch or TensorFlow import."""
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    register_settings(app, overrides)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_commands(app)
    return app


def register_settings(app, overrides):
    """Defaults, then ANANACARE_* environment variables, then overrides; validated."""
    from . import config

    config.init_app(app, overrides)  # validates the quality thresholds too
    app.config.update(API_TITLE="AnanaCare API", API_VERSION=__version__)
    app.json.sort_keys = False  # responses keep the documented field order


def register_extensions(app):
    """Process state in app.extensions['ananacare']: the model registry, the crop store, metrics, the API."""
    from . import image_cache, models, observability, openapi, request_body, security
    from .offload import PipelinePool

    app.extensions["ananacare"] = {"pipelines": PipelinePool()}  # photo work, off the gevent hub
    models.init_app(app)
    image_cache.init_app(app)
    observability.init_app(app)
    security.init_app(app)
    request_body.init_app(app)  # after the access check: a stranger's body is never read
    openapi.init_app(app)


def register_blueprints(app):
    """The thin HTTP layers: validate, analyze, images, diagnostics, and the page at /."""
    from .blueprints import analyze, diagnostics, images, ui, validate

    api = app.extensions["ananacare"]["api"]
    for blueprint in (validate.bp, analyze.bp, images.bp, diagnostics.bp):
        api.register_blueprint(blueprint)
    app.register_blueprint(ui.bp)  # the page for people; not part of the OpenAPI document


def register_errors(app):
    """One JSON error shape; registered after flask-smorest so its HTTPException handler is replaced."""
    from .errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app):
    """flask models warmup|list|verify, flask cache prune, flask analyze FILES."""
    from . import cli

    cli.init_app(app)


def start_worker(app):
    """What a serving process does once, after fork: say whether the API is open, load its models
    and start the crop sweeper."""
    from .image_cache import start_sweeper
    from .tenancy import warn_if_open

    warn_if_open(app)
    states = load_models(app)
    start_sweeper(app)
    return states


def load_models(app):
    """Load the models in this process (gunicorn calls it in each worker after fork): the required
    ones always, the optional ones too unless LOAD_MODELS_ON_START is off (then on first use)."""
    from .models import model_registry

    with app.app_context():
        return model_registry().load_all(required_only=not app.config["LOAD_MODELS_ON_START"])
