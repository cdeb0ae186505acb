"""Observability: JSON logs carrying the request id, per-stage timings (log line and Server-Timing
header), and Prometheus metrics that add up across gunicorn workers.

Under gunicorn, gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before any worker starts; each
worker then writes its samples there and /metrics merges them (prometheus_client's multiprocess
mode). Without it (tests, `flask run`) the app's own registry is exported.
"""
import ipaddress
import json
import logging
import os
import sys
import time
from datetime import datetime, timezone

from flask import Response, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from .errors import request_id
from .timing import NULL_TIMER, StageTimer

log = logging.getLogger("ananacare.access")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_QUIET_PATHS = ("/healthz", "/readyz", "/metrics")
# Label values come from fixed sets: a client must not be able to grow /metrics with made-up methods.
_METHOD_LABELS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The app's metrics, in a registry of its own (several apps may live in one test process)."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Histogram("ananacare_request_seconds", "Request latency by endpoint",
                                  ["endpoint", "method", "status"], registry=self.registry, buckets=LATENCY_BUCKETS)
        self.inference = Histogram("ananacare_inference_seconds", "Model inference latency", ["model"],
                                   registry=self.registry, buckets=LATENCY_BUCKETS)
        self.load_failures = Counter("ananacare_model_load_failures_total", "Model load failures by stage",
                                     ["model", "stage"], registry=self.registry)
        self.crop_lookups = Counter("ananacare_crop_store_lookups_total", "Crop store lookups by result",
                                    ["backend", "result"], registry=self.registry)

    # the model registry's observer interface
    def inference_done(self, model, seconds):
        """Record one inference."""
        self.inference.labels(model).observe(seconds)

    def model_load_failed(self, model, stage):
        """Record a model that failed to load."""
        self.load_failures.labels(model, stage).inc()

    def exposition(self):
        """The text format of every worker's metrics (multiprocess) or this process's."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra `fields`."""

    def format(self, record):
        payload = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                   "level": record.levelname, "logger": record.name, "pid": record.process,
                   "message": record.getMessage()}
        if has_request_context():
            payload["request_id"] = request_id()
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level="INFO"):
    """JSON lines on stderr for the `ananacare` loggers (once per process)."""
    logger = logging.getLogger("ananacare")
    if not any(getattr(handler, "_ananacare", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._ananacare = True
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


def metrics():
    """The current app's Metrics."""
    return current_app.extensions["ananacare"]["metrics"]


def current_timer():
    """The request's StageTimer, or a no-op timer outside a request."""
    return g.get("timer", NULL_TIMER) if has_request_context() else NULL_TIMER


def _start_request():
    g.timer = StageTimer()
    g.started = time.perf_counter()
    current_app.extensions["ananacare"]["inflight"][id(g.timer)] = (request_id(), request.method, request.path,
                                                                    g.started, g.timer)


def _parse_proxies(setting):
    """TRUSTED_PROXIES as ('*',) or a tuple of networks; entries that parse as neither are skipped
    (config validates them)."""
    entries = [item.strip() for item in (setting or "").split(",") if item.strip()]
    if "*" in entries:
        return ("*",)
    return tuple(ipaddress.ip_network(item, strict=False) for item in entries)


def _trusted(address, proxies):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies if network != "*")


def client_address():
    """The client's address: the peer's, or, when the peer is a trusted proxy (TRUSTED_PROXIES), the
    nearest X-Forwarded-For entry that is not one ('*': the proxy is the only way in, its entry is
    the last one). A client cannot choose what is logged by sending its own X-Forwarded-For."""
    peer = request.remote_addr or ""
    proxies = current_app.extensions["ananacare"]["trusted_proxies"]
    forwarded = [item.strip() for item in request.headers.get("X-Forwarded-For", "").split(",") if item.strip()]
    if not forwarded or not proxies or not (proxies == ("*",) or _trusted(peer, proxies)):
        return peer
    if proxies == ("*",):
        return forwarded[-1][:64]
    for address in reversed(forwarded):
        if not _trusted(address, proxies):
            return address[:64]
    return forwarded[0][:64]


def _access_fields(status, total, stages):
    tenant = g.get("tenant")
    tenants = current_app.extensions["ananacare"].get("tenants")
    return {"method": request.method, "path": request.path, "status": status,
            "duration_ms": round(total * 1000, 2), "stages_ms": stages, "bytes_in": request.content_length or 0,
            "client": client_address(),
            "tenant": tenant.name if tenant else (tenants.anonymous.name if tenants and tenants.open else None),
            "error": g.get("error_code")}


def log_inflight(app, reason):
    """Log every request this process is still working on, with its stages so far (gunicorn's
    worker_abort calls it: a request ended by the worker's death still leaves a line)."""
    now = time.perf_counter()
    for rid, method, path, started, timer in list(app.extensions["ananacare"]["inflight"].values()):
        log.error("request abandoned", extra={"fields": {
            "request_id": rid, "method": method, "path": path, "reason": reason,
            "duration_ms": round((now - started) * 1000, 2), "stages_ms": timer.milliseconds()}})


def _end_request(_error=None):
    current_app.extensions["ananacare"]["inflight"].pop(id(g.get("timer")), None)


def _finish_request(response):
    started = g.get("started")
    if started is None:
        return response
    total = time.perf_counter() - started
    timer = g.get("timer")
    stages = timer.milliseconds() if timer else {}
    parts = [f"{name};dur={ms}" for name, ms in stages.items()] + [f"total;dur={round(total * 1000, 2)}"]
    response.headers["Server-Timing"] = ", ".join(parts)
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    method = request.method if request.method in _METHOD_LABELS else "other"
    metrics().requests.labels(endpoint, method, str(response.status_code)).observe(total)
    if request.path not in _QUIET_PATHS:
        log.info("request", extra={"fields": _access_fields(response.status_code, total, stages)})
    return response


def metrics_view():
    """GET /metrics: Prometheus text format (content_type, not mimetype: Flask would add a second charset)."""
    return Response(metrics().exposition(), content_type=CONTENT_TYPE_LATEST)


def init_app(app):
    """Metrics in app.extensions, JSON logs, request timing hooks and the /metrics route."""
    app.extensions["ananacare"]["metrics"] = collected = Metrics()
    app.extensions["ananacare"]["models"].observer = collected
    app.extensions["ananacare"]["inflight"] = {}
    app.extensions["ananacare"]["trusted_proxies"] = _parse_proxies(app.config["TRUSTED_PROXIES"])
    configure_logging(app.config["LOG_LEVEL"])
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
