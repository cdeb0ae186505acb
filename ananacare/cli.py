"""flask commands: models warmup/list/verify, cache prune, analyze FILES."""
import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .errors import ApiError
from .image_cache import crop_store
from .models import model_registry
from .quality.checks import PROFILES
from .service import analyze_upload

models_cli = AppGroup("models", help="Fill the model cache, list and verify models.")
cache_cli = AppGroup("cache", help="Maintain the crop store.")


def _emit_json(payload):
    click.echo(json.dumps(payload, indent=2, default=str))


@models_cli.command("warmup")
def warmup_command():
    """Resolve (download into the HF cache), inspect, load and run every model once.

    Exit 1 when a required model fails, or any model whose runtime is not installed: a models
    file naming a timm model in a build without the timm runtime is a deploy mistake to stop.
    """
    registry = model_registry()
    failed_required = []
    for name in registry.names:
        state = registry.load(name)
        verdict = state.report.verdict if state.report else "-"
        line = f"{name:<24} {verdict:<16} {state.status:<7} {state.load_seconds or 0:7.3f}s"
        if state.status == "failed":
            line += f"  [{state.stage}] {state.error}"
            if state.spec.required or registry.runtime_missing(name):
                failed_required.append(name)
        click.echo(line)
    if failed_required:
        click.echo(f"required models (or models whose runtime is not installed) failed: "
                   f"{', '.join(failed_required)}", err=True)
        sys.exit(1)


@models_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json):
    """The configured models and their sources (nothing is resolved or loaded)."""
    registry = model_registry()
    rows = [{"name": n, "runtime": s.spec.runtime, "role": s.spec.role, "required": s.spec.required,
             "source": s.spec.source, "sha256": s.spec.sha256}
            for n, s in ((name, registry.state(name)) for name in registry.names)]
    if as_json:
        _emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['runtime']:<7} {row['role']:<10} "
                   f"{'required' if row['required'] else 'optional':<9} {row['source']}")


@models_cli.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify_command(as_json):
    """Resolve and inspect every model file (size, sha256, verdict) without loading it.

    Exit 1 as warmup does: a bad required model, or any model whose runtime is not installed.
    """
    registry = model_registry()
    rows, failed_required = [], []
    for name in registry.names:
        stage, error = registry.inspect(name)
        state = registry.state(name)
        report = state.report.to_dict() if state.report else None
        rows.append({"name": name, "required": state.spec.required, "ok": error is None, "stage": stage,
                     "error": error, "path": state.path, "file": report})
        if error and (state.spec.required or registry.runtime_missing(name)):
            failed_required.append(name)
    if as_json:
        _emit_json(rows)
    else:
        for row in rows:
            file = row["file"] or {}
            line = (f"{row['name']:<24} {file.get('verdict', '-'):<16} {file.get('size') or 0:>10} B  "
                    f"{file.get('sha256') or '-'}")
            click.echo(line + (f"  [{row['stage']}] {row['error']}" if row["error"] else ""))
    if failed_required:
        sys.exit(1)


@cache_cli.command("prune")
def prune_command():
    """Delete expired crops and stale temporary files."""
    click.echo(f"removed {crop_store().prune()} expired crops")


@click.command("analyze")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--models", default=None, help="Comma-separated analyzer models (default: all).")
@click.option("--tenant", default="anonymous", show_default=True,
              help="Store the crops as this tenant (a key group's name; `anonymous` in open mode).")
@click.option("--profile", default=None, type=click.Choice(list(PROFILES)),
              help="Quality profile for the checks (default: ANANACARE_QUALITY_PROFILE).")
@with_appcontext
def analyze_command(files, models, tenant, profile):
    """Validate and analyse local photos; one JSON object per line, as the API would answer.

    Exit status 1 when any photo hit a server-side failure (5xx), 0 otherwise: a photo without a
    face is a result (status 422), not a failure of the command.
    """
    names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    owner = current_app.extensions["ananacare"]["tenants"].named(tenant)
    server_failure = False
    for path in files:
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            record = {"file": path, "status": 200, **analyze_upload(data, owner, names, profile)}
        except ApiError as error:
            record = {"file": path, "status": error.status,
                      "error": {"code": error.code, "message": error.message, "details": error.details}}
            server_failure |= error.status >= 500
        click.echo(json.dumps(record, default=str))
    if server_failure:
        sys.exit(1)


def init_app(app):
    """Register the command groups."""
    app.cli.add_command(models_cli)
    app.cli.add_command(cache_cli)
    app.cli.add_command(analyze_command)
