"""Quality checks on the chosen face: each says what was measured, against what, and why."""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Check:
    """One quality check as the API reports it."""

    name: str
    passed: bool
    value: object
    threshold: object
    message: str

    def to_dict(self):
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Thresholds:
    """The limits the checks compare against (from settings)."""

    min_face_size: int
    frame_margin: float
    max_faces: int = 1


def _frame_margin(face, width, height):
    """Smallest distance from the face box to the image border, in face sizes (< 0: cut off)."""
    x, y, w, h = face.box
    gap = min(x, y, width - (x + w), height - (y + h))
    return gap / max(face.size, 1e-6)


def run_checks(faces, image_size, thresholds):
    """The checks for faces found in an image of image_size (source pixels), primary face first."""
    count = len(faces)
    checks = [Check("face_detected", count >= 1, count, 1,
                    "A face was found." if count else "No face was found in the photo.")]
    checks.append(Check("single_face", count == 1, count, thresholds.max_faces,
                        "Exactly one face." if count == 1 else
                        (f"{count} faces were found; the photo must show one person." if count else
                         "No face to count.")))
    if not faces:
        checks.append(Check("face_size", False, None, thresholds.min_face_size, "No face to measure."))
        checks.append(Check("face_inside_frame", False, None, thresholds.frame_margin, "No face to place."))
        return checks
    face = faces[0]
    size = round(float(face.size), 1)
    checks.append(Check("face_size", size >= thresholds.min_face_size, size, thresholds.min_face_size,
                        f"The face is {size:.0f} px; at least {thresholds.min_face_size} px is needed."
                        if size < thresholds.min_face_size else f"The face is {size:.0f} px."))
    margin = round(_frame_margin(face, *image_size), 3)
    inside = margin >= thresholds.frame_margin
    checks.append(Check("face_inside_frame", inside, margin, thresholds.frame_margin,
                        "The whole face is inside the photo." if inside else
                        "Part of the face is cut off by the photo's border; centre the face."))
    return checks
