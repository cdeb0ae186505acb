"""Skin analysis: mesh regions and the skin mask, px/mm, one module per concern, heatmaps.

Below service.py, above preprocess/ and models/ (DESIGN.md). Functions of an upright face image
and its mesh (no state beyond one analysis); the only model it may run is the optional iris model
(role `iris`, preprocess/scale.py) for scale.
"""
from .analysis import CONCERNS, analyze_skin
from ..preprocess.scale import pixels_per_mm

__all__ = ["CONCERNS", "analyze_skin", "pixels_per_mm"]
