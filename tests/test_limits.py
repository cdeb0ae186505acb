"""Limits that hold: JSON bodies, nesting, metric labels, and nothing internal in client messages."""
import random
import string

import pytest

from photos import jpeg


def test_deeply_nested_json_is_a_400(client):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/analyze/by-id", data=body[:8000] + body[-8000:], content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"
    nested = '{"image_id": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post("/api/analyze/by-id", data=nested, content_type="application/json")
    assert response.status_code == 400


def test_json_bodies_are_bounded_to_a_few_kb(client):
    models = ["m" * 10] * 2_000_000  # a 20 MB `models` list
    body = '{"image_id": "' + "0" * 32 + '", "models": ["' + '", "'.join(models[:2000]) + '"]}'
    assert len(body) > 16 * 1024
    response = client.post("/api/analyze/by-id", data=body, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"
    assert "16384" in response.get_json()["error"]["message"]


def test_upload_over_the_limit_states_the_limit(make_app):
    client = make_app(MAX_UPLOAD_BYTES=50_000).test_client()
    response = client.post("/api/validate/image", data=jpeg(), content_type="image/jpeg")
    assert response.status_code == 413 and "50000" in response.get_json()["error"]["message"]


def test_made_up_methods_do_not_grow_the_metrics(client):
    client.get("/healthz")
    before = len(client.get("/metrics").data)
    rng = random.Random(7)
    for _ in range(300):
        method = "".join(rng.choice(string.ascii_uppercase) for _ in range(12))
        client.open("/api/validate/image", method=method)
        client.open(f"/nowhere/{method}", method=method)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'method="other"' in text and 'endpoint="unmatched"' in text
    assert len(text) < before + 8000  # a fixed set of label values, not one per made-up method


@pytest.mark.parametrize("data, content_type", [
    (b"\xff\xd8\xff" + b"garbage" * 20, "image/jpeg"),  # Pillow: "cannot identify image file <_io.BytesIO ...>"
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "image/png"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"garbage" * 20, "image/webp")])
def test_undecodable_message_carries_no_internals(client, data, content_type):
    response = client.post("/api/validate/image", data=data, content_type=content_type)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "undecodable_image"
    text = response.get_data(as_text=True)
    assert "0x" not in text and "BytesIO" not in text and "<" not in text


def test_unreachable_redis_names_neither_host_nor_port(make_app):
    from server import free_port

    port = free_port()
    client = make_app(CACHE_URL=f"redis://:pw@127.0.0.1:{port}/0").test_client()
    from ananacare import load_models

    load_models(client.application)
    response = client.post("/api/analyze/by-id", json={"image_id": "a" * 32})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "cache_unavailable"
    text = response.get_data(as_text=True)
    assert str(port) not in text and "127.0.0.1" not in text and "pw" not in text
