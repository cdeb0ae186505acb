"""Deployment files agree with each other and with Railway's facts."""
import json
import os
import runpy

from server import ROOT


def _gunicorn_settings(monkeypatch, **env):
    """gunicorn.conf.py's settings under `env`; the config writes os.environ, so it gets a copy."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "WEB_CONCURRENCY", "GUNICORN_BIND")}
    monkeypatch.setattr(os, "environ", {**environ, **env})
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_railway_checks_readyz_and_drains_longer_than_gunicorn(monkeypatch):
    railway = json.loads((ROOT / "railway.json").read_text())
    settings = _gunicorn_settings(monkeypatch)
    assert railway["deploy"]["healthcheckPath"] == "/readyz"
    assert railway["deploy"]["drainingSeconds"] > settings["graceful_timeout"]
    assert "models warmup" in railway["build"]["buildCommand"]
    assert railway["deploy"]["startCommand"] in (ROOT / "Procfile").read_text()


def test_gunicorn_binds_railways_port_on_all_interfaces(monkeypatch):
    assert _gunicorn_settings(monkeypatch, PORT="4321")["bind"] == ["0.0.0.0:4321"]
    assert _gunicorn_settings(monkeypatch)["bind"] == ["127.0.0.1:8000"]
    settings = _gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3")
    assert settings["workers"] == 3 and settings["preload_app"] is False
