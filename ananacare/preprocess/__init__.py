"""Pure functions on images: decode, detect faces, square crop, quality, measurements."""
from .analysis import analyze_crop
from .pipeline import PipelineSettings, Validation, validate_image

__all__ = ["PipelineSettings", "Validation", "analyze_crop", "validate_image"]
