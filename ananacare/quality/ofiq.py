"""OFIQ's mappings from a measure's native value to its 0-100 quality component (QC).

Read from OFIQ 1.0.3 (BSI-OFIQ/OFIQ-Project, `data/ofiq_config.jaxn` and
`OFIQlib/modules/measures/src/*.cpp`), written here from those definitions. Most measures use
OFIQ's generic sigmoid QC = h * (a + s * sigma(x; x0, w)), sigma(x; x0, w) = 1 / (1 + exp((x0 - x) / w));
every QC is rounded and clipped to 0..100. `MEASURES` names, per check, the OFIQ measure it is
read against and the unit of the native value.
"""
import math


def sigma(x, x0, w):
    """OFIQ's logistic function; saturates instead of overflowing far from x0."""
    z = (x0 - x) / w
    return 0.0 if z > 700 else 1.0 / (1.0 + math.exp(z))


def _sigmoid(h=100.0, a=0.0, s=1.0, x0=0.0, w=1.0):
    return lambda x: h * (a + s * sigma(x, x0, w))


def _luminance_mean(x):
    return 100 * sigma(x, 0.2, 0.05) * (1 - sigma(x, 0.8, 0.05))


def _luminance_variance(v):
    return 100 * math.sin(math.pi * 60 * v / (60 * v + 1))


def _pose(degrees):
    return 100 * max(0.0, math.cos(math.radians(degrees))) ** 2


# check name -> (OFIQ measure, unit of the native value, native -> raw QC)
MEASURES = {
    "single_face": ("SingleFacePresent", "area of the second largest face / the largest", lambda x: 100 * (1 - x)),
    "inter_eye_distance": ("InterEyeDistance", "px x sec(yaw)", _sigmoid(x0=70, w=20)),
    "head_size": ("HeadSize", "T / image height",
                  lambda x: _sigmoid(h=200, a=1, s=-1, x0=0, w=0.05)(abs(x - 0.45))),
    "crop_left": ("LeftwardCropOfTheFaceImage", "inter-eye distances", _sigmoid(x0=0.9, w=0.1)),
    "crop_right": ("RightwardCropOfTheFaceImage", "inter-eye distances", _sigmoid(x0=0.9, w=0.1)),
    "margin_above": ("MarginAboveOfTheFaceImage", "T", _sigmoid(x0=1.4, w=0.1)),
    "margin_below": ("MarginBelowOfTheFaceImage", "T", _sigmoid(x0=1.8, w=0.1)),
    "yaw": ("HeadPoseYaw", "degrees", _pose),
    "pitch": ("HeadPosePitch", "degrees", _pose),
    "roll": ("HeadPoseRoll", "degrees", _pose),
    "eyes_open": ("EyesOpen", "T", _sigmoid(x0=0.02, w=0.01)),
    "mouth_closed": ("MouthClosed", "T", _sigmoid(a=1, s=-1, x0=0.2, w=0.06)),
    "luminance": ("LuminanceMean", "luminance, 0-1", _luminance_mean),
    "luminance_variance": ("LuminanceVariance", "luminance squared, 0-0.25", _luminance_variance),
    "underexposure": ("UnderExposurePrevention", "share of face pixels",
                      _sigmoid(h=120, a=0.832, s=-1, x0=0.92, w=0.05)),
    "overexposure": ("OverExposurePrevention", "share of face pixels", lambda x: 1 / (x + 0.01)),
    "dynamic_range": ("DynamicRange", "bits", lambda x: 12.5 * x),
    "illumination_uniformity": ("IlluminationUniformity", "histogram intersection, 0-1", lambda x: 100 * x ** 0.3),
    "natural_colour": ("NaturalColour", "CIE a*b* distance", _sigmoid(h=200, a=1, s=-1, x0=0, w=10)),
    "background_uniformity": ("BackgroundUniformity", "mean gradient magnitude",
                              _sigmoid(h=190, a=1, s=-1, x0=10, w=100)),
}


def quality_component(name, native):
    """The 0-100 QC of a check's native value (rounded and clipped as OFIQ does); None without one."""
    if native is None or name not in MEASURES or (isinstance(native, float) and math.isnan(native)):
        return None
    return int(min(100, max(0, math.floor(MEASURES[name][2](native) + 0.5))))  # C++ round(), half away from 0


def native_entry(name, native):
    """The API's `native` object for a check: OFIQ's measure name, the value and its unit."""
    if native is None or name not in MEASURES:
        return None
    measure, unit, _ = MEASURES[name]
    return {"measure": measure, "value": native, "unit": unit}
