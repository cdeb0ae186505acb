"""The light a face was photographed in, read off the whites of its eyes: a white reference that
travels with the face.

Skin colour as photographed follows the light: exposure moves L*, the light's colour moves b*, and
ITA = atan((L* - 50) / b*) follows both (one man's three portraits gave ITA 37.7, 27.2 and -0.3).
The sclera is the one white the face carries in every photo of it, so its colour and brightness
in the photo tell how the light changed the skin's. The eye openings (the mesh's eye rings) hold
iris, pupil, lashes and sclera; the sclera is their brightest, least saturated part. Its mean
linear RGB, on both eyes, gives per-channel gains that make it a neutral grey of SCLERA_Y; the same
gains applied to the skin give its colour under that reference light.

This is a correction, not a measurement of the light, and it holds only when the eyes show it
(`reference`): both eyes open enough to show MIN_SCLERA_PIXELS of white, neither white clipped,
the two whites in the same light (a face lit from one side has one eye in shadow), and the whites
not strongly coloured (an eye-white that is not white is an eyelid or a reflection). Otherwise the
reason is given and no skin-type category is derived from the colour.
"""
import numpy as np
from PIL import Image, ImageDraw

from ..preprocess.colour import SRGB_TO_LINEAR, linear_to_lab
from ..preprocess.face_measures import LEFT_EYE_RING, RIGHT_EYE_RING

SCLERA_Y = 0.6  # the reference: the whites made a neutral grey of this linear luminance (L* about 82)
BRIGHTEST_SHARE = 0.2  # the sclera: the brightest share of an eye opening's pixels ...
MIN_SCLERA_PIXELS = 12  # ... of which each eye must show at least this many
MAX_CLIPPED = 0.1  # share of the white at 250 or more in a channel: clipped, its colour unknown
MAX_EYE_RATIO = 1.6  # the brighter white over the darker: more, and the eyes are not in one light
MAX_EYE_HUE_DIFFERENCE = 8.0  # C*ab between the two whites (after the same correction)
MAX_WHITE_CHROMA = 30.0  # C* of the whites as photographed: more is no white
MAX_WHITE_TO_SKIN_CHROMA = 0.75  # ... nor is one nearly as coloured as the skin in the same light


def _eye_pixels(rgb, points, ring):
    """The RGB pixels inside one eye opening (the mesh's eye ring, not grown)."""
    height, width = rgb.shape[:2]
    xy = np.asarray(points, dtype=np.float64)[list(ring), :2]
    x0, y0 = np.floor(xy.min(axis=0)).astype(int)
    x1, y1 = np.ceil(xy.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 3 or y1 - y0 < 2:
        return np.zeros((0, 3), dtype=np.uint8)
    canvas = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(canvas).polygon([(float(x - x0), float(y - y0)) for x, y in xy], fill=255)
    return rgb[y0:y1, x0:x1][np.asarray(canvas) > 0]


def _white(pixels):
    """(mean linear RGB of the eye's white, pixel count, clipped share) from an eye opening's pixels."""
    if len(pixels) < MIN_SCLERA_PIXELS:
        return None, len(pixels), 0.0
    linear = SRGB_TO_LINEAR[pixels]
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    bright = luminance >= np.quantile(luminance, 1 - BRIGHTEST_SHARE)
    brightest = linear[bright]
    clipped = float((pixels[bright] >= 250).any(axis=1).mean())
    return brightest.mean(axis=0), len(brightest), clipped


def reference(rgb, points, skin_chroma=None):
    """{"gains": per-channel linear gains, "white_lab": the whites' L*a*b* as photographed} when the
    eyes can serve as the white reference; {"reason": why not} otherwise. `skin_chroma`: the skin's
    C* as photographed, which whites must be well under (an eye opening of skin colour is no white)."""
    rgb = np.asarray(rgb)
    whites = []
    for ring in (RIGHT_EYE_RING, LEFT_EYE_RING):
        white, count, clipped = _white(_eye_pixels(rgb, points, ring))
        if white is None or count < MIN_SCLERA_PIXELS:
            return {"reason": "eyes_not_visible"}
        if clipped > MAX_CLIPPED:
            return {"reason": "eye_whites_clipped"}
        whites.append(white)
    luminance = [float(w @ np.array([0.2126, 0.7152, 0.0722])) for w in whites]
    if max(luminance) / max(min(luminance), 1e-6) > MAX_EYE_RATIO:
        return {"reason": "uneven_light"}
    mean = np.mean(whites, axis=0)
    white_lab = linear_to_lab(mean[None, :])[0]
    white_chroma = float(np.hypot(white_lab[1], white_lab[2]))
    if white_chroma > MAX_WHITE_CHROMA or (skin_chroma and white_chroma > MAX_WHITE_TO_SKIN_CHROMA * skin_chroma):
        return {"reason": "eye_whites_coloured"}
    gains = SCLERA_Y / np.maximum(mean, 1e-4)
    corrected = [linear_to_lab((w * gains)[None, :])[0] for w in whites]
    if np.hypot(*(corrected[0][1:] - corrected[1][1:])) > MAX_EYE_HUE_DIFFERENCE:
        return {"reason": "uneven_light"}
    return {"gains": gains, "white_lab": [round(float(v), 2) for v in white_lab]}


def corrected_lab(rgb_pixels, gains):
    """N x 3 uint8 sRGB pixels as L*a*b* under the reference light (the gains applied in linear light)."""
    linear = SRGB_TO_LINEAR[np.asarray(rgb_pixels, dtype=np.uint8)] * gains  # over 1 is fine: no clip
    return linear_to_lab(linear)
