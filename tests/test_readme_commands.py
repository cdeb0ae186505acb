"""Every command in README.md and docs/*.md works as written. The lines of each ```sh block run as
one bash script, from a copy of the repository's top level (symlinks) with `.venv/bin/` meaning
this test run's venv, against a real gunicorn wherever a block calls `localhost:8000`; a block with
`make run` starts that server with the variables the block exports. Other `make` targets are
dry-run (`make -n`), and a bench script runs its own argument parser on the documented arguments,
then stops: benches take minutes."""
import json
import os
import re
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from photos import encode, photo
from server import ROOT, gunicorn

README = (ROOT / "README.md").read_text()
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
VENV_BIN = Path(sys.executable).parent
SERVICE = "localhost:8000"
# Runs a bench script as `python bench/x.py ARGS` would, but stops once its parser accepted ARGS.
PARSE_ONLY = '''import argparse, os, runpy, sys
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
parse = argparse.ArgumentParser.parse_args
def parse_then_stop(self, args=None, namespace=None):
    parse(self, args, namespace)
    print("parsed", script)
    sys.exit(0)
argparse.ArgumentParser.parse_args = parse_then_stop
runpy.run_path(script, run_name="__main__")
raise SystemExit(script + " never parsed its arguments")
'''
DUMP_ENV = (f"{sys.executable} -c 'import json, os; print(json.dumps({{k: v for k, v in os.environ.items() "
            f"if k.startswith(\"ANANACARE_\")}}))' > \"$ENV_DUMP\"")


def sh_blocks(path):
    """The ```sh blocks of a Markdown file, as text (indented blocks in lists included)."""
    blocks, current = [], None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if current is None and stripped == "```sh":
            current, indent = [], len(line) - len(line.lstrip())
        elif current is not None and stripped == "```":
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line[indent:])
    return blocks


class DocRunner:
    """Runs one document's blocks in order, with a server when a block needs one."""

    def __init__(self, tmp_path, stack):
        self.tmp, self.stack = tmp_path, stack
        self.checkout = tmp_path / "repo"
        self.checkout.mkdir()
        for entry in ROOT.iterdir():
            if entry.name not in (".git", ".venv", "instance", "test-artifacts", ".pytest_cache"):
                (self.checkout / entry.name).symlink_to(entry)
        (tmp_path / "parse_only.py").write_text(PARSE_ONLY)
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("PROMETHEUS")}
        self.env.update(ANANACARE_CACHE_DIR=str(tmp_path / "crops"), ENV_DUMP=str(tmp_path / "env.json"))
        self.server_env, self.server, self.server_stack = {}, None, None

    def _start(self):
        if self.server_stack is not None:
            self.server_stack.close()
        self.server_stack = ExitStack()
        folder = self.tmp / f"server-{len(list(self.tmp.glob('server-*')))}"
        folder.mkdir()
        self.server = self.server_stack.enter_context(gunicorn(folder, workers=1, env=self.server_env))
        self.stack.callback(self.server_stack.close)

    def script(self, block):
        """The block as this machine runs it."""
        lines = []
        for line in block.splitlines():
            line = re.sub(r"\S*\.venv/bin/", f"{VENV_BIN}/", line)
            line = re.sub(r"^(\S*python\S*) (bench/\S+\.py)", rf"\1 {self.tmp}/parse_only.py \2", line)
            if line.strip() == "make run":
                line = DUMP_ENV
            elif re.match(r"\s*make \w", line):
                line = re.sub(r"make (\S+)", r"make -n \1 > /dev/null", line)
            lines.append(line)
        script = "\n".join(lines)
        if SERVICE in script:
            if self.server is None:
                self._start()
            script = script.replace(SERVICE, self.server.removeprefix("http://"))
        return script

    def run(self, block):
        """Run a block; its output. A block with `make run` (re)starts the server with its exports."""
        dump = Path(self.env["ENV_DUMP"])
        dump.unlink(missing_ok=True)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", self.script(block)], cwd=self.checkout,
                                env=self.env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{block}\n---\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        for bench in re.findall(r"bench/\S+\.py", block):
            assert f"parsed {bench}" in result.stdout, block
        if "curl" in block:  # the service answered, and not with an error
            assert '"error":' not in result.stdout and '"error": ' not in result.stdout, result.stdout[-2000:]
        if dump.exists():
            exported = json.loads(dump.read_text())
            self.server_env = {k: v for k, v in exported.items() if self.env.get(k) != v}  # the block's own
            self.server = None  # started by the next block that calls it
        return result.stdout


def test_readme_opens_with_the_two_commands_in_a_labelled_block_then_the_title():
    assert README.splitlines()[:6] == ["```sh", "make run", "make test", "```", "", "# AnanaCare API"]


@pytest.mark.slow
@pytest.mark.parametrize("doc", [doc for doc in DOCS if sh_blocks(doc)], ids=lambda path: path.name)
def test_every_command_runs_as_written(doc, tmp_path):
    blocks = sh_blocks(doc)
    with ExitStack() as stack:
        runner = DocRunner(tmp_path, stack)
        for block in blocks:
            runner.run(block)
        if doc.name == "README.md":
            _check_try_it(runner.checkout)
            assert runner.server_env.get("ANANACARE_API_KEYS"), "the keys example ran against a keyed server"


def _check_try_it(folder):
    """What Try it leaves behind: the full analysis, the same crop analysed again, a heatmap."""
    result = json.loads((folder / "result.json").read_text())
    assert result["validation"]["valid"] and len(result["image_id"]) == 32
    concerns = result["results"]["skin"]["concerns"]
    assert len(concerns) == 8 and all(c["available"] for c in concerns.values()), \
        {name: c.get("reason") for name, c in concerns.items()}  # the sample shows every skin concern
    again = json.loads((folder / "again.json").read_text())
    assert again["image_id"] == result["image_id"] and again["validation"] is None
    assert (folder / "wrinkles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_try_it_posts_small_sample_photos_that_validate(client):
    section = README[README.index("## Try it"):README.index("## Endpoints")]
    files = set(re.findall(r"@([\w.-]+)", section))
    assert files == {"face.jpg"}
    for name in files | {"selfie.jpg"}:
        data = (ROOT / name).read_bytes()
        assert len(data) < 100_000  # a small sample, committed as a plain file
        body = client.post("/api/validate/image", data=data, content_type="image/jpeg").get_json()
        assert body["valid"] is True and body["image_id"]


def _subset(shown, real, where="result"):
    """Every key the README shows is in the real answer, recursively (lists: their first item)."""
    if isinstance(shown, dict):
        assert isinstance(real, dict), where
        for key, value in shown.items():
            assert key in real, f"{where}.{key} is not in the answer"
            _subset(value, real[key], f"{where}.{key}")
    elif isinstance(shown, list) and shown and isinstance(shown[0], dict):
        assert isinstance(real, list) and real, where
        _subset(shown[0], next((item for item in real if item.get("name") == shown[0].get("name")), real[0]), where)


def test_the_abridged_result_in_the_readme_is_the_answers_shape(client):
    section = README[README.index("## Reading a result"):]
    shown = json.loads(section[section.index("```json") + 7:section.index("```", section.index("```json") + 7)])
    real = client.post("/api/analyze/image", data=(ROOT / "face.jpg").read_bytes(), content_type="image/jpeg")
    assert real.status_code == 200
    _subset(shown, real.get_json())


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
