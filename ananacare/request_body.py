"""Request bodies read whole, under a size limit, a minimum rate and a worker-wide bound, before any
view sees them.

- Only the endpoints that take a body read one (BODY_ENDPOINTS); any other request that carries a
  body (an unknown path, a GET with a body) is answered without reading it and its connection is
  closed, so nobody holds a connection slot by trickling a body to a path that wants none.
- A body with a Content-Length over the limit is refused before a byte is read; a chunked body (no
  Content-Length) is counted as it arrives and refused the moment it passes the limit, never
  truncated. JSON bodies get a limit of their own, a few KB, since nothing the API takes as JSON
  is larger.
- Rate: after a GRACE_SECONDS grace a body must have arrived at BODY_MIN_RATE bytes/s on average
  (received >= rate x (elapsed - grace)) and whole within BODY_TIMEOUT_SECONDS; a client that falls
  behind is cut off with 408 and its connection closed (a watchdog shuts the socket's read side,
  which wakes whatever read is blocked on it). A 25 MiB body declared and sent at 1 byte/s is cut
  after the grace.
- Memory: the bytes of the bodies a worker holds at once are bounded by MAX_BUFFERED_BYTES; a body
  that would pass it gets 503 `server_busy` with Retry-After (a declared length is reserved before
  reading, a chunked body counted as it arrives).
"""
import io
import socket
import threading
import time

from flask import current_app, request

from .errors import ApiError

JSON_MAX_BYTES = 16 * 1024
GRACE_SECONDS = 5.0
BUSY_RETRY_SECONDS = 2
_CHUNK = 64 * 1024
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# The views that read a body; for every other request a body is never read.
BODY_ENDPOINTS = frozenset({"validate.validate_image_route", "analyze.analyze_image_route",
                            "analyze.analyze_by_id_route"})


def too_large(limit, what="request body"):
    """413 `payload_too_large` that states the limit."""
    return ApiError("payload_too_large", f"The {what} is larger than the limit of {limit} bytes "
                    f"({limit / 1048576:.1f} MiB).", 413, {"max_bytes": limit})


def server_busy(limit):
    """503 `server_busy`: this worker holds as many body bytes as it may (MAX_BUFFERED_BYTES)."""
    return ApiError("server_busy", "The server is receiving as many uploads as it can hold; try again shortly.",
                    503, {"max_buffered_bytes": limit, "setting": "MAX_BUFFERED_BYTES"},
                    {"Retry-After": str(BUSY_RETRY_SECONDS)})


def body_limit():
    """The size limit for this request's body: tight for JSON, MAX_UPLOAD_BYTES for photos."""
    if request.mimetype == "application/json" or request.mimetype.endswith("+json"):
        return JSON_MAX_BYTES
    return current_app.config["MAX_UPLOAD_BYTES"]


class BufferedBytes:
    """The body bytes this worker holds at once, bounded (one per app; thread- and greenlet-safe)."""

    def __init__(self, limit):
        self.limit = limit
        self.held = 0
        self._lock = threading.Lock()

    def take(self, count):
        """Hold `count` more bytes; 503 `server_busy` when that would pass the limit."""
        with self._lock:
            if self.held + count > self.limit:
                raise server_busy(self.limit)
            self.held += count

    def give_back(self, count):
        """Release bytes taken earlier."""
        with self._lock:
            self.held -= count


class RateWatchdog:
    """Shuts a socket's read side when its body falls behind `min_rate` bytes/s after `grace`
    seconds, or is not whole after `timeout`. It wakes only when the client would be behind if
    nothing more had arrived, so a thousand slow clients cost a timer each, not a poll each."""

    def __init__(self, sock, min_rate, timeout, grace=GRACE_SECONDS, clock=time.monotonic):
        self.fired = False
        self.received = 0
        self.min_rate, self.grace = min_rate, grace
        self._sock, self._clock = sock, clock
        self._started = clock()
        self._end = self._started + timeout
        self._timer = None
        self._lock = threading.Lock()
        if sock is not None:
            self._schedule()

    def _due(self):
        """When the body falls behind if no more bytes arrive (or the timeout, if sooner)."""
        return min(self._end, self._started + self.grace + self.received / self.min_rate)

    def _schedule(self):
        self._timer = threading.Timer(max(0.0, self._due() - self._clock()) + 0.05, self._check)
        self._timer.daemon = True
        self._timer.start()

    def _check(self):
        with self._lock:
            if self._timer is None:
                return  # cancelled
            if self._clock() < self._due():
                self._schedule()  # bytes arrived meanwhile: look again when they would run out
                return
            self.fired = True
        try:
            self._sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def cancel(self):
        """Stop watching (the body arrived, or the request ended)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


def read_limited(stream, declared_length, limit, watchdog, buffered):
    """Every byte of the body, or 413 past `limit`, 408 when the watchdog fired, 400 when cut short,
    503 when a chunked body would pass the worker's buffer bound (`buffered` holds what arrives)."""
    buffer = io.BytesIO()
    try:
        while True:
            wanted = _CHUNK if declared_length is None else min(_CHUNK, declared_length - buffer.tell())
            chunk = stream.read(wanted) if wanted > 0 else b""  # never past Content-Length (PEP 3333)
            if not chunk:
                break
            if declared_length is None:
                buffered.take(len(chunk))  # a declared length was taken whole before reading
            buffer.write(chunk)
            watchdog.received = buffer.tell()
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
        raise ApiError("request_timeout", "The request body arrived too slowly and was cut off.", 408,
                       {"min_bytes_per_second": watchdog.min_rate, "grace_seconds": watchdog.grace,
                        "received_bytes": buffer.tell()})
    if declared_length is not None and buffer.tell() < declared_length:
        raise ApiError("incomplete_body", "The request body ended before it was complete.", 400,
                       {"expected_bytes": declared_length, "received_bytes": buffer.tell()})
    return buffer.getvalue()


def close_unread_body():
    """A body this request will not read: close the connection after the answer instead of letting
    the server drain it (a trickled body would hold the connection for as long as it trickles)."""
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass


def buffer_body():
    """before_request: read the body under the limits and hand the views an in-memory copy."""
    environ = request.environ
    declared = request.content_length
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if (declared is None and not chunked) or declared == 0:
        return
    if request.method not in _BODY_METHODS or request.endpoint not in BODY_ENDPOINTS:
        close_unread_body()
        return
    limit = body_limit()
    if declared is not None and declared > limit:
        close_unread_body()
        raise too_large(limit)
    config = current_app.config
    buffered = current_app.extensions["ananacare"]["buffered_bytes"]
    if declared is not None:
        try:
            buffered.take(declared)
        except ApiError:
            close_unread_body()
            raise
    watchdog = RateWatchdog(environ.get("gunicorn.socket"), config["BODY_MIN_RATE"], config["BODY_TIMEOUT_SECONDS"])
    try:
        body = read_limited(environ["wsgi.input"], declared, limit, watchdog, buffered)
    except ApiError:
        buffered.give_back(declared if declared is not None else watchdog.received)
        close_unread_body()
        raise
    finally:
        watchdog.cancel()
    request.environ["ananacare.buffered_bytes"] = declared if declared is not None else len(body)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False


def release_body(_error=None):
    """teardown_request: the request's body bytes no longer count against the worker's bound."""
    held = request.environ.pop("ananacare.buffered_bytes", 0)
    if held:
        current_app.extensions["ananacare"]["buffered_bytes"].give_back(held)


def init_app(app):
    """Read every request body through the limits, after the access check; bound what a worker holds."""
    app.extensions["ananacare"]["buffered_bytes"] = BufferedBytes(app.config["MAX_BUFFERED_BYTES"])
    app.before_request(buffer_body)
    app.teardown_request(release_body)
