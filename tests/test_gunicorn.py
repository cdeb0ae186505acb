"""Real gunicorn, 2 workers, loopback: ready by itself, every endpoint answers, crops shared."""
from concurrent.futures import ThreadPoolExecutor

from photos import jpeg
from server import call, gunicorn


def test_two_workers_serve_every_endpoint(tmp_path):
    with gunicorn(tmp_path, workers=2) as base:
        assert call(base, "/healthz")[0] == 200
        pids = set()
        with ThreadPoolExecutor(4) as pool:  # concurrent calls reach both workers; each must be ready
            for _ in range(10):
                answers = list(pool.map(lambda _: call(base, "/readyz"), range(40)))
                assert all(status == 200 and body["ready"] is True for status, body, _ in answers)
                pids |= {body["pid"] for _, body, _ in answers}
                if len(pids) == 2:
                    break
        diagnostics = call(base, "/api/diagnostics")[1]
        assert {m["status"] for m in diagnostics["models"]} == {"ready"}
        assert all(m["file"]["verdict"] == "tflite" for m in diagnostics["models"])

        ids = set()
        for _ in range(6):
            status, body, headers = call(base, "/api/validate/image", jpeg(), "image/jpeg")
            assert status == 200 and body["valid"] is True
            ids.add(body["image_id"])
        assert len(ids) == 1
        image_id = ids.pop()
        for _ in range(6):  # whichever worker answers finds the crop
            status, body, _ = call(base, "/api/analyze/by-id", b'{"image_id": "%s"}' % image_id.encode(),
                                   "application/json")
            assert status == 200 and body["results"]["landmarks"]["count"] == 468
        status, body, _ = call(base, "/api/analyze/image", jpeg(), "image/jpeg")
        assert status == 200 and body["image_id"] == image_id

        assert call(base, "/api/validate/image", b"plain text", "text/plain")[0] == 415
        assert call(base, "/api/analyze/by-id", b'{"image_id": "../../etc/passwd"}', "application/json")[0] == 400
        assert call(base, "/api/nowhere")[1]["error"]["code"] == "not_found"
        assert call(base, "/api/openapi.json")[0] == 200
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log
    assert len(pids) == 2, f"only saw workers {pids}"
