"""gunicorn entry point: `gunicorn -c gunicorn.conf.py wsgi:app`.

A bad setting is one line on stderr and exit code 4 (gunicorn's "App failed to load", which stops
the master instead of respawning the worker; the flask CLI just fails), not a traceback.
"""
from ananacare import create_app
from ananacare.config import ConfigError, exit_on_bad_settings

try:
    app = create_app()
except ConfigError:
    exit_on_bad_settings()
    raise  # a ConfigError that the environment alone does not reproduce (overrides): show it whole
