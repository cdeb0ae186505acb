"""Work ends on the service's terms: a deadline answered with 503 `work_timeout` (never a killed
worker), a face search bounded in model runs and saying so, parameters checked before any work."""
import io
import json
import logging
import sys
from contextlib import contextmanager

from test_detect_recall import group_photo
from photos import encode, jpeg


@contextmanager
def access_lines():
    """The app's JSON access lines written in the block."""
    handler = next(h for h in logging.getLogger("ananacare").handlers if getattr(h, "_ananacare", False))
    stream, lines = io.StringIO(), []
    handler.setStream(stream)
    try:
        yield lines
    finally:
        handler.setStream(sys.stderr)
        lines += [record for record in map(json.loads, stream.getvalue().splitlines())
                  if record["message"] == "request"]


def test_work_past_its_deadline_is_a_503_with_retry_after_and_its_stages_logged(make_app):
    from ananacare import load_models

    app = make_app(WORK_TIMEOUT_SECONDS=0.1)  # decoding the photo takes a few ms, searching it hundreds
    load_models(app)
    with access_lines() as lines:
        response = app.test_client().post("/api/validate/image", data=encode(group_photo()),
                                          content_type="image/jpeg")
    assert response.status_code == 503, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "work_timeout" and error["details"]["limit_seconds"] == 0.1
    assert int(response.headers["Retry-After"]) >= 1
    [line] = lines
    assert line["error"] == "work_timeout" and "decode" in line["stages_ms"] and "detect" in line["stages_ms"]


def test_a_search_out_of_model_runs_keeps_its_faces_and_says_it_was_not_exhaustive(make_app):
    from ananacare import load_models

    app = make_app(MAX_SEARCH_MODEL_RUNS=6)
    load_models(app)
    body = app.test_client().post("/api/validate/image", data=encode(group_photo()),
                                  content_type="image/jpeg").get_json()
    assert body["detection"] == {"exhaustive": False, "search_model_runs": 7}  # the run past the budget refused
    checks = {check["name"]: check for check in body["checks"]}
    assert checks["face_detected"]["reason"] == "search_not_exhaustive"
    assert checks["single_face"]["reason"] == "search_not_exhaustive"
    assert "MAX_SEARCH_MODEL_RUNS" in checks["single_face"]["message"]


def test_an_ordinary_selfie_is_searched_exhaustively(client):
    body = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg").get_json()
    assert body["detection"]["exhaustive"] is True and body["valid"] is True
    assert {check["reason"] for check in body["checks"]} <= {None}


def test_a_group_photo_stays_within_the_search_budget(make_app):
    from ananacare import load_models

    app = make_app(MAX_SEARCH_MODEL_RUNS=40)
    load_models(app)
    body = app.test_client().post("/api/validate/image", data=encode(group_photo()),
                                  content_type="image/jpeg").get_json()
    assert body["detection"]["search_model_runs"] <= 41 and len(body["faces"]) >= 1


def test_an_unknown_model_is_refused_before_anything_is_stored(client, app, tmp_path):
    response = client.post("/api/analyze/image?models=nosuchmodel", data=jpeg(), content_type="image/jpeg")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "unknown_model"
    crops = tmp_path / "crops"
    stored = [path for path in crops.rglob("*") if path.is_file() and not path.name.startswith(".")] \
        if crops.exists() else []
    assert stored == []


def test_a_redirect_never_echoes_the_host_header(client):
    response = client.get("/api/docs", headers={"Host": "evil.example"})
    assert response.status_code in (301, 308)
    assert response.headers["Location"] == "/api/docs/"


def test_access_lines_name_the_client_and_the_tenant(client):
    with access_lines() as lines:
        client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg",
                    environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers={"X-Forwarded-For": "198.51.100.1"})
        client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg",
                    environ_base={"REMOTE_ADDR": "127.0.0.1"},
                    headers={"X-Forwarded-For": "198.51.100.1, 192.0.2.7"})
    # an untrusted peer's X-Forwarded-For is not believed; the trusted proxy's last entry is the client
    assert [line["client"] for line in lines] == ["203.0.113.9", "192.0.2.7"]
    assert {line["tenant"] for line in lines} == {"anonymous"}
