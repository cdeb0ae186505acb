"""The README's commands work as written: its first lines, the sample photo "Try it" posts, and
the flask CLI from another folder and with a quality profile."""
import json
import os
import re
import subprocess
import sys

from photos import encode, photo
from server import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands_in_a_labelled_block_then_the_title():
    assert README.splitlines()[:6] == ["```sh", "make run", "make test", "```", "", "# AnanaCare API"]


def test_try_it_posts_files_that_exist_and_validate(client):
    section = README[README.index("## Try it"):README.index("## HTTP API")]
    files = set(re.findall(r"@([\w.-]+)", section))
    assert files == {"selfie.jpg"}
    for name in files:
        data = (ROOT / name).read_bytes()
        assert len(data) < 100_000  # a small sample, committed as a plain file
        body = client.post("/api/validate/image", data=data, content_type="image/jpeg").get_json()
        assert body["valid"] is True and body["image_id"]


def test_flask_analyze_takes_a_profile(runner, tmp_path):
    grey = tmp_path / "grey.jpg"
    grey.write_bytes(encode(photo("astronaut").convert("L"), "JPEG", quality=92))
    records = {}
    for profile in ("normal", "strict"):
        result = runner.invoke(args=["analyze", "--profile", profile, str(grey)])
        assert result.exit_code == 0, result.output
        records[profile] = json.loads(result.output)
    assert records["normal"]["validation"]["profile"] == "normal" and records["normal"]["validation"]["valid"]
    assert records["strict"]["validation"]["profile"] == "strict" and not records["strict"]["validation"]["valid"]
    assert runner.invoke(args=["analyze", "--profile", "extreme", str(grey)]).exit_code != 0


def test_flask_cli_runs_from_another_folder_with_the_path_to_wsgi(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMETHEUS")}
    env["ANANACARE_CACHE_DIR"] = str(tmp_path / "crops")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "wsgi.py"), "models", "list", "--json"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert {row["name"] for row in json.loads(result.stdout)} >= {"face_detector_short", "face_landmarks"}
