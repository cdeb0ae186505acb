"""Where a model's file comes from: an installed package, the Hugging Face cache, or a path.

`package:` files are located through the distribution's metadata, without importing it (a
package may ship models whose code does not import here). `path:` files are relative to the
models file's folder: the default face models are shipped in data/ beside default_models.toml.
`hf-hub:` files go through huggingface_hub into the Hugging Face cache (HF_HOME); there is no
private models folder.
"""
import os
from importlib import metadata
from pathlib import Path

DEFAULT_HUB_FILES = {"tflite": "model.tflite", "timm": "model.safetensors"}


class SourceError(Exception):
    """A source could not be turned into a local file; `stage` is resolve or download."""

    def __init__(self, stage, message):
        super().__init__(message)
        self.stage = stage


def parse_hub_source(source):
    """'hf-hub:org/repo@rev' -> ('org/repo', 'rev' or None)."""
    repo = source.split(":", 1)[1]
    repo, _, revision = repo.partition("@")
    return repo, (revision or None)


def resolve_package_file(source):
    """'package:<dist>/<path>' -> the file's absolute path inside the installed distribution."""
    dist_name, _, relative = source.split(":", 1)[1].partition("/")
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise SourceError("resolve", f"package {dist_name!r} is not installed") from None
    return str(Path(dist.locate_file(relative)).resolve())


def resolve_path(source, base_dir=None):
    """'path:<file>' -> an absolute path, relative ones against the models file's folder."""
    path = Path(os.path.expanduser(source.split(":", 1)[1]))
    if not path.is_absolute() and base_dir:
        path = Path(base_dir) / path
    return str(path.resolve())


def hub_download(repo_id, filename, revision=None):
    """Fetch one file of a hub repo into the HF cache (or find it there when offline)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return hf_hub_download(repo_id, filename, revision=revision)
    except LocalEntryNotFoundError as error:
        raise SourceError("download", f"{repo_id}/{filename} is not in the Hugging Face cache "
                                      f"and cannot be downloaded ({error})") from None
    except Exception as error:  # huggingface_hub raises many kinds; each is a download failure
        raise SourceError("download", f"{repo_id}/{filename}: {type(error).__name__}: {error}") from None


TIMM_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def timm_weights_in(folder, filename=None):
    """The weights file of a timm folder in the hub layout (config.json beside it)."""
    if not os.path.isfile(os.path.join(folder, "config.json")):
        raise SourceError("resolve", f"{folder} has no config.json (save the model with timm's save_for_hf)")
    candidates = [filename] if filename else TIMM_WEIGHT_FILES
    for name in candidates:
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return os.path.join(folder, candidates[0])  # missing: inspection names it


def resolve(spec):
    """The local path of a spec's weights file (downloading hub files into the HF cache)."""
    kind = spec.source.split(":", 1)[0]
    if kind == "package":
        return resolve_package_file(spec.source)
    if kind == "path":
        path = resolve_path(spec.source, spec.base_dir)
        if spec.runtime == "timm" and os.path.isdir(path):
            return timm_weights_in(path, spec.file)
        return path
    repo_id, revision = parse_hub_source(spec.source)
    if spec.runtime == "timm":
        hub_download(repo_id, "config.json", revision)  # lands beside the weights in the snapshot
    return hub_download(repo_id, spec.file or DEFAULT_HUB_FILES[spec.runtime], revision)
