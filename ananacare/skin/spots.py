"""Spots: round patches darker than the skin around them, 1-10 mm across.

The surround is the skin's own lightness averaged over SURROUND_MM (a Gaussian over skin pixels
only, so hair and brows do not darken it); darkness is how far the lightly smoothed relative
lightness lies under it (% of the skin's lightness). A candidate is a local maximum of darkness
(within 1 mm) over SEED_CONTRAST on skin; its size, shape and centre are its core's: the blob
around it darker than half its peak (at least LOW_CONTRAST; a painted spot's core is its nominal
disc, and two spots beside one shadow keep a core each). It is a spot when that core's
equivalent diameter is 1-10 mm, it is round (major over minor axis of its second moments under
MAX_ELONGATION; longer ones are lines, left to wrinkles), its centre lies on measured skin (the
region that holds its centre counts it), most of it is measured skin and so is most of its
surround (a blob reaching into an eye, a brow or the hair, or their rim, is their shadow, and a dark
line where the face meets an ear or the hair is no spot).

Stable counts: a spot near the threshold is neither in nor out. Each spot weighs
clip((peak darkness - SEED_CONTRAST) / (FULL_CONTRAST - SEED_CONTRAST), 0, 1): a faint one adds a
fraction, and the raw value (spots per cm2) is the sum of the weights over the measured area, so it
moves smoothly when the light or the compression moves a faint spot's contrast. `count` is the
number of spots of weight at least one half. Reported per region: count, per cm2, area share.
"""
import math
from dataclasses import dataclass

import numpy as np

from .common import masked_blur, region_area_cm2, result, sigma_px, unavailable, union
from .filters import gaussian_filter, label, maximum_filter
from .heatmaps import Marks

METHOD = "dark_blobs_vs_surround (local background subtraction, hysteresis, 1-10 mm, round)"
MIN_PX_PER_MM = 1.0  # a 1 mm spot is then about one pixel
SURROUND_MM = 6.0
LOW_CONTRAST = 2.0  # % darker than the surround: the least a spot's core reaches down to
SEED_CONTRAST = 4.0  # a candidate's peak; it weighs 0 there ...
FULL_CONTRAST = 10.0  # ... rising to a whole spot here (count: weight >= 0.5, a peak of 7)
DIAMETER_MM = (1.0, 10.0)
MAX_ELONGATION = 3.0
MIN_ON_SKIN = 0.6  # share of a spot's core on measured skin (not hair, brows, eyes, nor their rim)
SURROUND_REACH, MIN_SURROUND = 2.5, 0.55  # and of the square 2.5 radii around it: a spot lies within the skin
CORE_LEVELS = 2.0 * 1.4 ** np.arange(8)  # % darker, 2 to 21: where a spot's core is cut (at 0.5-0.7 of its peak)
REGIONS = ("forehead", "nose", "chin", "right_cheek", "left_cheek", "right_under_eye", "left_under_eye",
           "right_crows_feet", "left_crows_feet", "right_nasolabial", "left_nasolabial", "upper_lip")


@dataclass(frozen=True)
class Spot:
    """One spot: centre (y, x) in the face's arrays, diameter in mm, peak darkness
    (%), its weight in the raw value, the region that holds its centre, and its label in
    `Spots.labels`."""

    y: float
    x: float
    diameter_mm: float
    contrast: float
    weight: float
    region: str
    label: int


@dataclass(frozen=True)
class Spots:
    """What the spots concern found: every spot, and the labelled blobs (the face's arrays; for the
    heatmap's outlines)."""

    spots: list
    labels: np.ndarray


def darkness(face, skin):
    """How much darker than its surround each pixel is (% of the skin's lightness)."""
    smooth = gaussian_filter(face.relative, max(sigma_px(face, 0.2), 0.5))
    surround = masked_blur(face.relative, skin, sigma_px(face, SURROUND_MM))
    return surround - smooth


def _component_stats(labels, count, skin):
    """Per component of a labelling: pixel count, centre, second moments and share on skin."""
    where = np.flatnonzero(labels)
    owner = labels.ravel()[where]
    ys, xs = (axis.astype(np.float64) for axis in np.divmod(where, labels.shape[1]))
    area = np.bincount(owner, minlength=count + 1).astype(np.float64)

    def mean(values):
        return np.bincount(owner, weights=values, minlength=count + 1) / np.maximum(area, 1)

    my, mx = mean(ys), mean(xs)
    vyy, vxx, vxy = mean(ys * ys) - my * my, mean(xs * xs) - mx * mx, mean(xs * ys) - mx * my
    root = np.sqrt(((vxx - vyy) / 2) ** 2 + vxy ** 2)
    major, minor = (vxx + vyy) / 2 + root, np.maximum((vxx + vyy) / 2 - root, 1e-6)
    return area, my, mx, np.sqrt(major / minor), mean(skin.ravel()[where].astype(np.float64))


def surround_share(inside, y, x, reach):
    """The share of measured skin in the square of half-side `reach` around (y, x) (`inside`: the
    integral image of the measured skin, padded by a row and a column of zeros)."""
    height, width = inside.shape[0] - 1, inside.shape[1] - 1
    top, bottom = int(max(0, y - reach)), int(min(height, y + reach + 1))
    left, right = int(max(0, x - reach)), int(min(width, x + reach + 1))
    area = max(1, (bottom - top) * (right - left))
    total = inside[bottom, right] - inside[top, right] - inside[bottom, left] + inside[top, left]
    return float(total) / area


def find(face):
    """The spots on the face's measured regions (see the module's docstring).

    Each local maximum of darkness over SEED_CONTRAST (on skin) is a candidate; its core is the blob
    around it darker than half its peak (from the ladder of CORE_LEVELS, the nearest at or over
    half), labelled once per level: two spots beside a shadow keep a core each, and a core holds one
    spot (candidates are taken darkest first; one whose peak lies in a taken core is that spot's)."""
    dark = darkness(face, face.skin)
    measured = union(face, REGIONS)  # skin away from hair, brows and eyes (analysis's interior rim)
    inside = np.pad(measured, ((1, 0), (1, 0))).cumsum(0).cumsum(1)  # its integral image
    window = max(3, int(round(sigma_px(face, 1.0))) | 1)
    peaks = (dark >= SEED_CONTRAST) & (dark == maximum_filter(dark, window)) & face.skin
    py, px = np.nonzero(peaks)
    if not len(py):
        return Spots([], np.zeros(dark.shape, dtype=np.int32))
    peak = dark[py, px]
    level_of = np.minimum(np.searchsorted(CORE_LEVELS, np.maximum(0.5 * peak, LOW_CONTRAST)), len(CORE_LEVELS) - 1)
    cores = {}  # level -> (labels, their component stats)
    for level in np.unique(level_of):
        labels, count = label((dark >= CORE_LEVELS[level]) & face.skin)
        cores[level] = (labels, _component_stats(labels, count, measured), np.zeros(count + 1, np.int32))
    found, centres = [], []  # centres: the spots' (centre, radius)
    taken = {level: set() for level in cores}  # the components of the cores seen, per level

    for index in np.argsort(-peak, kind="stable"):  # the darkest first: a core holds one spot
        level, y, x = level_of[index], py[index], px[index]
        if any(cores[other][0][y, x] in components for other, components in taken.items()):
            continue
        labels, (area, my, mx, elongation, on_skin), numbers = cores[level]
        component = int(labels[y, x])
        if component == 0:
            continue
        taken[level].add(component)
        diameter = 2 * np.sqrt(area[component] / np.pi) / face.px_per_mm
        if not (DIAMETER_MM[0] <= diameter <= DIAMETER_MM[1] and elongation[component] <= MAX_ELONGATION
                and on_skin[component] >= MIN_ON_SKIN):
            continue
        radius = diameter / 2 * face.px_per_mm
        if surround_share(inside, my[component], mx[component], SURROUND_REACH * radius + 1) < MIN_SURROUND:
            continue  # at the edge of the measured skin: a shadow where the face meets an ear, hair or a fold
        if any(math.dist((my[component], mx[component]), centre) < max(radius, other) for centre, other in centres):
            continue  # the same spot seen from another peak (a hard-edged spot can have a ring of them)
        cy, cx = int(round(my[component])), int(round(mx[component]))
        region = next((name for name in REGIONS if name in face.measured and face.measured[name][cy, cx]), None)
        if region is None:
            continue
        centres.append(((my[component], mx[component]), radius))
        numbers[component] = len(found) + 1
        weight = float(np.clip((peak[index] - SEED_CONTRAST) / (FULL_CONTRAST - SEED_CONTRAST), 0, 1))
        found.append(Spot(float(my[component]), float(mx[component]), float(diameter), float(peak[index]), weight,
                          region, len(found) + 1))
    outlines = np.zeros(dark.shape, dtype=np.int32)
    for labels, _, numbers in cores.values():
        if numbers.any():
            mine = numbers[labels]
            outlines = np.where(mine > 0, mine, outlines)
    return Spots(found, outlines)


def measure(face, heatmap=False):
    """The spots concern (and, for the heatmap, what it found)."""
    measured = union(face, REGIONS)
    if not measured.any():
        return unavailable("no_region_measured"), None
    found = find(face)
    spot_mask = found.labels > 0  # the labels kept are the spots'
    regions, total_weight, total_area = {}, 0.0, 0.0
    for name in REGIONS:
        if name not in face.measured:
            continue
        mask = face.measured[name]
        mine = [spot for spot in found.spots if spot.region == name]
        weight = sum(spot.weight for spot in mine)
        cm2 = region_area_cm2(face, mask)
        regions[name] = {"count": sum(spot.weight >= 0.5 for spot in mine),
                         "per_cm2": round(weight / max(cm2, 1e-6), 3),
                         "area_percent": round(100 * float((spot_mask & mask).sum()) / max(mask.sum(), 1), 3)}
        total_weight += weight
        total_area += cm2
    density = total_weight / max(total_area, 1e-6)
    body = result(METHOD, density, "spots/cm2", best=0.0, worst=2.0, regions=regions, minimum=MIN_PX_PER_MM,
                  count=sum(spot.weight >= 0.5 for spot in found.spots),
                  area_percent=round(100 * float((spot_mask & measured).sum()) / max(measured.sum(), 1), 3))
    return body, (Marks(outlines(found), "mark") if heatmap else None)


def outlines(found):
    """The counted spots' outlines, valued by each spot's darkness (NaN elsewhere)."""
    contrast = np.zeros(int(found.labels.max()) + 1, dtype=np.float32)
    for spot in found.spots:
        contrast[spot.label] = spot.contrast
    values = contrast[found.labels]
    inner = values.copy()
    for axis in (0, 1):
        for shift in (1, -1):
            inner = np.minimum(inner, np.roll(values, shift, axis=axis))
    edge = (values > 0) & (inner == 0)
    return np.where(edge, values, np.nan).astype(np.float32)
