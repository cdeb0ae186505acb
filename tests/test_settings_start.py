"""Starting with wrong settings: a typo in a variable's name is warned about with the closest
setting, and a bad value stops the flask CLI and gunicorn with one line, not a traceback."""
import logging
import os
import subprocess
import sys

import pytest

from ananacare.config import DEFAULTS, ENV_PREFIX, EXIT_BAD_SETTINGS, unknown_variables
from server import ROOT


def test_a_misspelt_variable_is_warned_about_with_the_closest_setting(make_app, monkeypatch, caplog):
    monkeypatch.setenv("ANANACARE_QUALTY_PROFILE", "strict")
    with caplog.at_level(logging.WARNING):
        make_app()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ANANACARE_QUALTY_PROFILE" in w and "did you mean ANANACARE_QUALITY_PROFILE" in w for w in warnings)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_setting_is_known_and_its_typo_points_at_it(name):
    assert unknown_variables({ENV_PREFIX + name: "1"}) == []
    typo = name[:len(name) // 2] + name[len(name) // 2 + 1:]  # one letter dropped
    assert unknown_variables({ENV_PREFIX + typo: "1"}) == [(ENV_PREFIX + typo, ENV_PREFIX + name)]


def _start(command, **settings):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMETHEUS")}
    env.update(settings, GUNICORN_BIND="127.0.0.1:0", WEB_CONCURRENCY="1")
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


COMMANDS = {
    "flask": [sys.executable, "-m", "flask", "--app", "wsgi", "models", "list"],
    "gunicorn": [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
    # without gunicorn.conf.py's check the worker fails to load the app: exit 4 stops the master too
    "gunicorn-worker": [sys.executable, "-m", "gunicorn", "-c", "{empty}", "-b", "127.0.0.1:0", "wsgi:app"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_value_stops_with_one_line(command, tmp_path):
    (tmp_path / "empty.py").write_text("")
    arguments = [part.format(empty=tmp_path / "empty.py") for part in COMMANDS[command]]
    result = _start(arguments, ANANACARE_QUALITY_PROFILE="extreme")
    assert result.returncode == EXIT_BAD_SETTINGS
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith("ananacare: ")]
    assert ours == ["ananacare: invalid settings: ANANACARE_QUALITY_PROFILE='extreme': "
                    "Must be one of: lenient, normal, strict, ofiq, skin."]
    assert "Traceback" not in result.stderr and "Worker failed to boot" not in result.stderr
    assert len(lines) <= (1 if command == "flask" else 12), result.stderr


@pytest.mark.parametrize("command", ["flask", "gunicorn"])
def test_keys_without_a_secret_stop_with_one_line_that_shows_no_secret(command, tmp_path):
    result = _start(COMMANDS[command], ANANACARE_API_KEYS="clinic:hunter2-key", ANANACARE_DIAGNOSTICS_TOKEN="tok-9")
    assert result.returncode == EXIT_BAD_SETTINGS
    ours = [line for line in result.stderr.splitlines() if line.startswith("ananacare: ")]
    assert len(ours) == 1 and "ANANACARE_SECRET_KEY" in ours[0]
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_a_wrong_secret_or_url_is_named_without_its_value(make_app):
    from ananacare.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        make_app(SECRET_KEY="short-secret", CACHE_URL="http://admin:s3cr3tpw@redis.internal:6379")
    message = str(caught.value)
    assert "ANANACARE_SECRET_KEY='***'" in message and "ANANACARE_CACHE_URL" in message
    assert "short-secret" not in message and "s3cr3tpw" not in message
