"""Stage timings for one piece of work: the log line and the Server-Timing header read them."""
import time
from contextlib import contextmanager


class StageTimer:
    """Accumulates wall time per named stage, in the order stages first ran."""

    def __init__(self):
        self.stages = {}

    @contextmanager
    def stage(self, name):
        """Time the block under `name` (repeated stages add up)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started

    def milliseconds(self):
        """{stage: ms} rounded for logs."""
        return {name: round(seconds * 1000, 2) for name, seconds in self.stages.items()}


class NullTimer:
    """A timer that records nothing (the default for pure function calls)."""

    @contextmanager
    def stage(self, name):
        yield


NULL_TIMER = NullTimer()
