"""Request bodies read whole, under a size limit and a deadline, before any view sees them.

A body with a Content-Length over the limit is refused before a byte is read; a chunked body
(no Content-Length) is counted as it arrives and refused the moment it passes the limit, never
truncated. A client that sends its body slower than BODY_MIN_RATE (after a short grace) or for
longer than BODY_TIMEOUT_SECONDS is cut off with 408 and its connection closed: under gunicorn a
watchdog shuts the socket's read side, which wakes whatever read is blocked on it. JSON bodies
get a limit of their own, a few KB, since nothing the API takes as JSON is larger.
"""
import io
import socket
import threading

from flask import current_app, request

from .errors import ApiError

JSON_MAX_BYTES = 16 * 1024
GRACE_SECONDS = 5.0
_CHUNK = 64 * 1024
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def too_large(limit, what="request body"):
    """413 `payload_too_large` that states the limit."""
    return ApiError("payload_too_large", f"The {what} is larger than the limit of {limit} bytes "
                    f"({limit / 1048576:.1f} MiB).", 413, {"max_bytes": limit})


def body_limit():
    """The size limit for this request's body: tight for JSON, MAX_UPLOAD_BYTES for photos."""
    if request.mimetype == "application/json" or request.mimetype.endswith("+json"):
        return JSON_MAX_BYTES
    return current_app.config["MAX_UPLOAD_BYTES"]


def body_deadline(declared_length, config):
    """Seconds allowed to receive a body: a grace plus its length at the minimum rate, capped."""
    expected = declared_length if declared_length is not None else config["MAX_UPLOAD_BYTES"]
    return min(config["BODY_TIMEOUT_SECONDS"], GRACE_SECONDS + expected / config["BODY_MIN_RATE"])


class _Watchdog:
    """Shuts a socket's read side after `seconds` unless cancelled first."""

    def __init__(self, sock, seconds):
        self.fired = False
        self._sock = sock
        self._timer = threading.Timer(seconds, self._fire) if sock is not None else None
        if self._timer:
            self._timer.daemon = True
            self._timer.start()

    def _fire(self):
        self.fired = True
        try:
            self._sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def cancel(self):
        """Stop the timer (the body arrived in time)."""
        if self._timer:
            self._timer.cancel()


def read_limited(stream, declared_length, limit, watchdog):
    """Every byte of the body, or 413 past `limit`, 408 when the watchdog fired, 400 when cut short."""
    buffer = io.BytesIO()
    try:
        while True:
            wanted = _CHUNK if declared_length is None else min(_CHUNK, declared_length - buffer.tell())
            chunk = stream.read(wanted) if wanted > 0 else b""  # never past Content-Length (PEP 3333)
            if not chunk:
                break
            buffer.write(chunk)
            if buffer.tell() > limit:
                raise too_large(limit)
            if declared_length is not None and buffer.tell() >= declared_length:
                break
    except ApiError:
        raise
    except Exception as error:  # gunicorn's NoMoreData, a reset socket, a chunked framing error
        if not watchdog.fired:
            raise ApiError("incomplete_body", "The request body ended before it was complete.", 400,
                           {"reason": type(error).__name__}) from None
    if watchdog.fired:
        raise ApiError("request_timeout", "The request body arrived too slowly and was cut off.", 408)
    if declared_length is not None and buffer.tell() < declared_length:
        raise ApiError("incomplete_body", "The request body ended before it was complete.", 400,
                       {"expected_bytes": declared_length, "received_bytes": buffer.tell()})
    return buffer.getvalue()


def buffer_body():
    """before_request: read the body under the limits and hand the views an in-memory copy."""
    if request.method not in _BODY_METHODS:
        return
    environ = request.environ
    declared = request.content_length
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if declared is None and not chunked:
        return
    limit = body_limit()
    if declared is not None and declared > limit:
        raise too_large(limit)
    config = current_app.config
    watchdog = _Watchdog(environ.get("gunicorn.socket"), body_deadline(declared, config))
    try:
        body = read_limited(environ["wsgi.input"], declared, limit, watchdog)
    finally:
        watchdog.cancel()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False


def init_app(app):
    """Read every request body through the limits, after the access check."""
    app.before_request(buffer_body)
