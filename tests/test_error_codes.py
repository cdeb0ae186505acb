"""One list of error codes (errors.ERROR_CODES): every code the source raises is in it, under the
status it is raised with, and docs/api.md's error table lists exactly the same codes."""
import ast
import re
from pathlib import Path

import ananacare
from ananacare.errors import _HTTP_CODES, ERROR_CODES

PACKAGE = Path(ananacare.__file__).parent
API_DOC = PACKAGE.parent / "docs" / "api.md"


def _literal(node):
    return node.value if isinstance(node, ast.Constant) else None


def raised_codes():
    """{(code, status or None, file:line)} of every ApiError(...) and ApiError subclass's
    super().__init__(...) call whose code is a string literal."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_api_error = isinstance(func, ast.Name) and func.id == "ApiError"
            is_super_init = (isinstance(func, ast.Attribute) and func.attr == "__init__"
                             and isinstance(func.value, ast.Call) and getattr(func.value.func, "id", "") == "super")
            code = _literal(node.args[0])
            if (is_api_error or is_super_init) and isinstance(code, str):
                status = node.args[2] if len(node.args) > 2 else next(
                    (k.value for k in node.keywords if k.arg == "status"), None)
                found.add((code, _literal(status) if status is not None else 400,
                           f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"))
    return found


def documented_table():
    """{code: status} from docs/api.md's error table (status None for the `other` row)."""
    text = API_DOC.read_text()
    table = text[text.index("| status | codes |"):]
    table = table[:table.index("\n\n")]
    codes = {}
    for row in table.splitlines()[2:]:
        status, listed = row.strip("|").split("|", 1)
        status = None if status.strip() == "other" else int(status)
        for code in re.findall(r"`([a-z_]+)`", listed):
            assert code not in codes, f"{code} listed twice in docs/api.md"
            codes[code] = status
    return codes


def test_the_scan_finds_codes():
    codes = {code for code, _, _ in raised_codes()}
    assert {"no_face_detected", "invalid_image_id", "model_unavailable", "unknown_model"} <= codes


def test_every_raised_code_is_listed_with_its_status():
    for code, status, where in raised_codes():
        assert code in ERROR_CODES, f"{where}: {code!r} is not in errors.ERROR_CODES"
        if isinstance(status, int):
            assert ERROR_CODES[code][0] == status, f"{where}: {code!r} raised with {status}, listed as " \
                                                   f"{ERROR_CODES[code][0]}"
    for status, code in _HTTP_CODES.items():
        assert ERROR_CODES.get(code, (None,))[0] == status, f"_HTTP_CODES {status} -> {code!r}"


def test_the_documented_table_matches_the_list():
    assert documented_table() == {code: status for code, (status, _) in ERROR_CODES.items()}
