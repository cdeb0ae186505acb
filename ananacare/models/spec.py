"""Model specs: one TOML table per model, validated when the app is created.

A bad spec fails fast with the entry and field named; everything about the model itself
(download, file, load) fails soft later, in the registry.
"""
import re
import tomllib
from pathlib import Path
from dataclasses import dataclass, field
from importlib import resources

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .outputs import ACTIVATIONS

RUNTIMES = ("tflite", "timm")
ROLES = ("detector", "landmarks", "segmentation", "iris", "analyzer")
SOURCE_PATTERN = re.compile(r"^(package|hf-hub|path):.+$")
DEFAULT_SPEC = "default_models.toml"


class SpecError(ValueError):
    """The models file is unreadable or an entry is invalid; raised at startup."""


class PreprocessingSchema(Schema):
    class Meta:
        unknown = RAISE

    input_size = fields.List(fields.Integer(validate=validate.Range(min=1)), validate=validate.Length(equal=2))
    mean = fields.List(fields.Float(), validate=validate.Length(equal=3))
    std = fields.List(fields.Float(validate=validate.Range(min=1e-9)), validate=validate.Length(equal=3))
    layout = fields.String(validate=validate.OneOf(["NHWC", "NCHW"]))


class ModelSpecSchema(Schema):
    class Meta:
        unknown = RAISE

    runtime = fields.String(required=True, validate=validate.OneOf(RUNTIMES))
    source = fields.String(required=True, validate=validate.Regexp(
        SOURCE_PATTERN, error="must start with package:, hf-hub: or path:"))
    file = fields.String()
    sha256 = fields.String(validate=validate.Regexp(r"^[0-9a-f]{64}$", error="must be 64 lowercase hex digits"))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    required = fields.Boolean(load_default=False)
    labels = fields.List(fields.String())
    preprocessing = fields.Nested(PreprocessingSchema)
    params = fields.Dict(keys=fields.String())
    threads = fields.Integer(validate=validate.Range(min=1, max=64))
    top_k = fields.Integer(validate=validate.Range(min=1))

    @validates_schema
    def _runtime_fits_source(self, data, **kwargs):
        if data.get("source", "").startswith("package:") and data.get("runtime") == "timm":
            raise ValidationError("timm models come from hf-hub: or path:", "source")

    @validates_schema
    def _known_activation(self, data, **kwargs):
        activation = data.get("params", {}).get("activation", "softmax")
        if activation not in ACTIVATIONS:
            raise ValidationError(f"params.activation must be one of {', '.join(ACTIVATIONS)}", "params")


@dataclass(frozen=True)
class ModelSpec:
    """One model as the spec file describes it."""

    name: str
    runtime: str
    source: str
    role: str
    required: bool = False
    file: str | None = None
    sha256: str | None = None
    labels: tuple = ()
    preprocessing: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    threads: int | None = None
    top_k: int = 5
    base_dir: str | None = None  # where relative path: sources are looked up

    def param(self, key, default=None):
        """A role-specific parameter, e.g. a detector's min_score."""
        return self.params.get(key, default)


def parse_specs(document, base_dir=None):
    """Validate a parsed TOML document into {name: ModelSpec}."""
    tables = document.get("models")
    if not isinstance(tables, dict) or not tables:
        raise SpecError("the models file needs at least one [models.<name>] table")
    specs = {}
    for name, table in tables.items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise SpecError(f"model name {name!r}: use letters, digits, '_', '-', '.'")
        try:
            data = ModelSpecSchema().load(table)
        except ValidationError as error:
            fields_text = "; ".join(f"{key}: {msgs}" for key, msgs in sorted(error.messages.items()))
            raise SpecError(f"models.{name}: {fields_text}") from None
        data["labels"] = tuple(data.get("labels", ()))
        specs[name] = ModelSpec(name=name, base_dir=base_dir, **data)
    return specs


def load_specs(path=None):
    """Read and validate a models file; None reads the packaged default."""
    if path is None:  # its path: sources name the files shipped in data/ beside it
        package = resources.files("ananacare.models")
        text = package.joinpath(DEFAULT_SPEC).read_text()
        base_dir = str(package)
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise SpecError(f"cannot read models file {path}: {error}") from None
        base_dir = str(Path(path).resolve().parent)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"models file {path or DEFAULT_SPEC}: {error}") from None
    return parse_specs(document, base_dir)
