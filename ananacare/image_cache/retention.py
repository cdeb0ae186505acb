"""Crops are biometric data: each is deleted within a bounded time after its TTL, read or not.

Every serving process runs a sweeper (a daemon thread, or a greenlet under gevent) that calls the
store's `sweep_if_due` at start and then every min(TTL, CACHE_SWEEP_SECONDS); the store elects one
process per interval to do the work (a file lock on the crop folder, a Redis key), so a crop is
gone at most about TTL + interval after it was made.
"""
import logging
import threading
import time

log = logging.getLogger(__name__)


def sweep_interval(config):
    """Seconds between sweeps: CACHE_SWEEP_SECONDS, never longer than the TTL."""
    return max(1.0, min(float(config["CACHE_TTL_SECONDS"]), float(config["CACHE_SWEEP_SECONDS"])))


class Sweeper:
    """Calls store.sweep_if_due(interval) now and then every interval, until stopped."""

    def __init__(self, store, interval):
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        """Start sweeping in the background (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="crop-sweeper", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        """Stop after the current sweep."""
        self._stop.set()

    def sweep_once(self):
        """One sweep attempt; errors are logged (a store outage must not end the sweeper)."""
        started = time.monotonic()
        try:
            removed = self.store.sweep_if_due(self.interval)
        except Exception:
            log.exception("crop sweep failed")
            return None
        if removed:
            log.info("crop sweep removed %d entries in %.3f s", removed, time.monotonic() - started)
        return removed

    def _run(self):
        while not self._stop.is_set():
            self.sweep_once()
            self._stop.wait(self.interval)
