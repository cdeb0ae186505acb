"""flask commands: models warmup/list/verify, cache prune, analyze FILES.

Tables print one row per model with columns as wide as their widest cell, under a header. The
open-mode warning (no API keys) is the server's: of these commands only `analyze`, which stores
crops as a tenant, repeats it, once per run.
"""
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
from .tenancy import warn_if_open

models_cli = AppGroup("models", help="Fill the model cache, list and verify models.")
cache_cli = AppGroup("cache", help="Maintain the crop store.")


def _emit_json(payload):
    click.echo(json.dumps(payload, indent=2, default=str))


def _echo_table(header, rows):
    """Rows of cells under a header, each column as wide as its widest cell: numbers right-aligned,
    the rest left-aligned; a column empty in every row is left out."""
    rows = [[str(cell) for cell in row] for row in rows]
    kept = [column for column in range(len(header)) if any(row[column] for row in rows)]
    header, rows = [header[c] for c in kept], [[row[c] for c in kept] for row in rows]
    widths = [max(len(line[column]) for line in [header, *rows]) for column in range(len(header))]
    numeric = [bool(rows) and all(_numeric(row[column]) for row in rows) for column in range(len(header))]
    for line in [header, *rows]:
        cells = [cell.rjust(width) if right else cell.ljust(width) for cell, width, right in zip(line, widths, numeric)]
        click.echo("  ".join(cells).rstrip())


def _numeric(cell):
    """A number (a size, seconds with their unit)."""
    return cell.rstrip("s").replace(".", "", 1).isdigit()


@models_cli.command("warmup")
def warmup_command():
    """Resolve (download into the HF cache), inspect, load and run every model once.

    Exit 1 when a required model fails, or any model whose runtime is not installed: a models
    file naming a timm model in a build without the timm runtime is a deploy mistake to stop.
    """
    registry = model_registry()
    failed_required, rows = [], []
    for name in registry.names:
        state = registry.load(name)
        verdict = state.report.verdict if state.report else "-"
        problem = f"[{state.stage}] {state.error}" if state.status == "failed" else ""
        rows.append([name, verdict, state.status, f"{state.load_seconds or 0:.3f}s", problem])
        if state.status == "failed" and (state.spec.required or registry.runtime_missing(name)):
            failed_required.append(name)
    _echo_table(["model", "verdict", "status", "load", "problem"], rows)
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
    _echo_table(["model", "runtime", "role", "required", "source"],
                [[row["name"], row["runtime"], row["role"], "required" if row["required"] else "optional",
                  row["source"]] for row in rows])


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
        _echo_table(["model", "verdict", "bytes", "sha256", "problem"],
                    [[row["name"], (row["file"] or {}).get("verdict", "-"), (row["file"] or {}).get("size") or 0,
                      (row["file"] or {}).get("sha256") or "-",
                      f"[{row['stage']}] {row['error']}" if row["error"] else ""] for row in rows])
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
    warn_if_open(current_app)
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
