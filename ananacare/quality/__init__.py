"""Quality of a face photo: the checks and profiles (checks.py), OFIQ's native measures and their
0-100 quality components (ofiq.py; geometry.py, lighting.py, background.py, one per measure family).

Below service.py, above preprocess/ (whose face evidence it measures) and models/."""
from .checks import PROFILES, is_valid, run_checks, thresholds_for
from .measures import ofiq_measures

__all__ = ["PROFILES", "is_valid", "ofiq_measures", "run_checks", "thresholds_for"]
