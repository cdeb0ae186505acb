"""Crafted uploads (issue 20) against real gunicorn: what each costs, as a ratio to a normal selfie
measured in the same run.

Starts gunicorn (2 gevent workers by default) on loopback and sends each input of tests/crafted.py to
POST /api/validate/image as a raw body, one at a time, a selfie before each (their median wall time
is the reference). Prints per input: bytes, HTTP status, error code (or valid/faces for a 200), the
server's `Server-Timing` total, the wall time, its ratio to the selfie, the slowest /healthz answer
while it ran (polled from a thread), with --concurrent N (N copies at once) a selfie's wall time sent
0.5 s into them, the largest worker VmHWM after it (and its rise), and whether gunicorn logged a
WORKER TIMEOUT. Worker VmHWM before/after the run and the log's WORKER TIMEOUT count close the run.

    python bench/abuse.py --quick                      # a few minutes; skips what runs past 60 s today
    python bench/abuse.py --only scan_bomb:20000,exif_flood:256000 --workers 1
    python bench/abuse.py --only scan_bomb:1000 --concurrent 2  # both workers busy: /healthz, a selfie
    python bench/abuse.py --list
    python bench/abuse.py --structure DIR_OF_PHOTOS [--every]  # no server: what real files hold

An input is FAMILY or FAMILY:N, N its size parameter (repeats, segments, chunks, bytes, MP...).
"""
import argparse
import http.client
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import print_table

import crafted
from server import gunicorn, memory_mb

PATH = "/api/validate/image"

# family: (content type, builder of the bytes for size n, what n is, default sizes, quick sizes)
FAMILIES = {
    "selfie_1mp": ("image/jpeg", lambda n: crafted.selfie_1mp_jpeg(n), "MP", [1], [1]),
    "scan_bomb": ("image/jpeg", lambda n: crafted.scan_bomb_jpeg(repeats=n), "scan repeats, 7000 px grey",
                  [300, 1000, 20000], [300, 1000]),
    "exif_flood": ("image/jpeg", lambda n: crafted.exif_flood_jpeg(segments=n), "APP1 Exif segments",
                   [128_000, 256_000], [128_000]),
    "appn_flood": ("image/jpeg", lambda n: crafted.appn_flood_jpeg(segments=n), "empty APP2-15/COM segments",
                   [300_000, 1_000_000], [300_000]),
    "fill_bytes": ("image/jpeg", lambda n: crafted.fill_bytes_jpeg(count=n), "0xFF fill bytes before DQT",
                   [5_000_000, 20_000_000], [5_000_000]),
    "table_flood": ("image/jpeg", lambda n: crafted.table_flood_jpeg(segments=n), "repeated DQT segments",
                    [200_000], [200_000]),
    "claimed_cmyk": ("image/jpeg", lambda n: crafted.claimed_size_cmyk_jpeg(side=n), "claimed side, px",
                     [7071], [7071]),
    "cmyk_progressive": ("image/jpeg", lambda n: crafted.large_cmyk_progressive_jpeg(megapixels=n), "MP",
                         [50], [50]),
    "png_private_chunks": ("image/png", lambda n: crafted.private_chunk_flood_png(chunks=n), "empty prVt chunks",
                           [1_000_000], [1_000_000]),
    "png_private_chunks_50mp": ("image/png", lambda n: crafted.private_chunk_flood_png(
        chunks=n, base=crafted.large_face_png()), "empty prVt chunks before a 50 MP face", [1_000_000], []),
    "png_text_flood": ("image/png", lambda n: crafted.text_flood_png(chunks=n), "tEXt/zTXt/iTXt chunks",
                       [100_000], [100_000]),
    "png_ztxt_bomb": ("image/png", lambda n: crafted.ztxt_bomb_png(chunks=n), "zTXt chunks of 1 MB inflated",
                      [63], [63]),
    "png_iccp_bomb": ("image/png", lambda n: crafted.ztxt_bomb_png(chunks=1, inflated=n, kind=b"iCCP"),
                      "inflated iCCP bytes", [64_000_000], [64_000_000]),
    "png_split_idat": ("image/png", lambda n: crafted.split_idat_png(chunk_bytes=n), "bytes per IDAT", [1], [1]),
    "webp_chunk_flood": ("image/webp", lambda n: crafted.webp_chunk_flood(chunks=n), "unknown chunks",
                         [1_000_000], [1_000_000]),
    "webp_exif": ("image/webp", lambda n: crafted.webp_metadata_flood(nbytes=n), "EXIF bytes",
                  [20_000_000], [20_000_000]),
    "face_grid": ("image/jpeg", lambda n: crafted.face_grid_jpeg(rows=n, columns=n), "faces per side",
                  [12], [12]),
    "faceless": ("image/jpeg", lambda n: crafted.faceless_jpeg(side=n), "px (coffee)", [768], [768]),
    "png_50mp_face": ("image/png", lambda n: crafted.large_face_png(megapixels=n), "MP", [50], [50]),
}
SELFIE = ("image/jpeg", crafted.selfie_jpeg)
_TOTAL = re.compile(r"total;dur=([\d.]+)")


def post(base, data, content_type, timeout):
    """(status or 'timeout'/'reset', code text, server ms or None, wall s) of one raw-body upload."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request("POST", PATH, body=data, headers={"Content-Type": content_type})
        response = connection.getresponse()
        body = response.read()
        wall = time.perf_counter() - started
    except TimeoutError:
        return "timeout", "", None, time.perf_counter() - started
    except (ConnectionError, http.client.HTTPException) as error:
        return "reset", type(error).__name__, None, time.perf_counter() - started
    finally:
        connection.close()
    match = _TOTAL.search(response.headers.get("Server-Timing") or "")
    return response.status, _outcome(response.status, body), float(match.group(1)) if match else None, wall


def _outcome(status, body):
    try:
        answer = json.loads(body)
    except ValueError:
        return body[:40].decode("latin-1")
    if status == 200:
        return f"valid={answer.get('valid')} faces={len(answer.get('faces') or [])}"
    return (answer.get("error") or {}).get("code", "?")


class HealthProbe:
    """Polls /healthz every `period` s from a thread while an upload runs; `worst()` is its slowest
    answer in ms (a timeout counts as its timeout)."""

    def __init__(self, base, period=0.25, timeout=5.0):
        self.base, self.period, self.timeout = base, period, timeout
        self.times, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        host, port = self.base.removeprefix("http://").split(":")
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(host, int(port), timeout=self.timeout)
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                connection.close()
            except (OSError, http.client.HTTPException):
                pass
            self.times.append(time.perf_counter() - started)
            self.stop.wait(self.period)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stop.set()
        self.thread.join()

    def worst(self):
        return max(self.times) * 1000 if self.times else None


def worker_hwm(server):
    """{pid: VmHWM MB} of the server's live workers."""
    out = {}
    for pid in server.worker_pids():
        try:
            out[pid] = memory_mb(pid, "VmHWM")
        except (OSError, RuntimeError):
            pass
    return out


def parse_inputs(text, quick):
    """[(label, family, n)] from 'family[:n],...' (all families at their default or quick sizes if empty)."""
    chosen = []
    if text:
        for item in text.split(","):
            family, _, size = item.strip().partition(":")
            if family not in FAMILIES:
                raise SystemExit(f"unknown input {family!r}; --list shows them")
            sizes = [int(float(size))] if size else FAMILIES[family][4 if quick else 3] or FAMILIES[family][3]
            chosen += [(f"{family}:{n}", family, n) for n in sizes]
    else:
        for family, spec in FAMILIES.items():
            chosen += [(f"{family}:{n}", family, n) for n in spec[4 if quick else 3]]
    return chosen


def _send(base, data, content_type, timeout, concurrent):
    """`concurrent` copies of one upload at once (threads), and, when more than one, a selfie sent
    0.5 s after them: (their results, the selfie's wall s or None)."""
    if concurrent <= 1:
        return [post(base, data, content_type, timeout)], None
    results, during = [], []
    threads = [threading.Thread(target=lambda: results.append(post(base, data, content_type, timeout)))
               for _ in range(concurrent)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    status, _code, _ms, wall = post(base, SELFIE[1](), SELFIE[0], timeout)
    during.append(wall if status == 200 else float("nan"))
    for thread in threads:
        thread.join()
    return results, during[0]


def run(inputs, workers, timeout, selfies, health, concurrent=1):
    """Start gunicorn, send everything, print the table; the rows."""
    built = []
    for label, family, n in inputs:
        content_type, build, _what, _d, _q = FAMILIES[family]
        started = time.perf_counter()
        data = build(n)
        print(f"built {label}: {len(data):,} B in {time.perf_counter() - started:.2f} s", flush=True)
        built.append((label, content_type, data))
    selfie = SELFIE[1]()
    work = Path(tempfile.mkdtemp(prefix="bench-abuse-"))
    log_path = work / "gunicorn.log"
    rows, selfie_walls, selfie_server = [], [], []
    with gunicorn(work, workers=workers, env={"GUNICORN_LOGLEVEL": "info"}) as base:
        for _ in range(2 * workers):  # warm every worker
            post(base, selfie, SELFIE[0], timeout)
        before = worker_hwm(base)
        seen = dict(before)
        print(f"workers {sorted(before)} VmHWM before: " + ", ".join(f"{v:.0f}" for v in before.values()) + " MB")
        timeouts_seen = 0

        def one_selfie():
            status, _code, server_ms, wall = post(base, selfie, SELFIE[0], timeout)
            if status == 200:
                selfie_walls.append(wall)
                selfie_server.append(server_ms or 0.0)

        for _ in range(max(0, selfies - len(built))):
            one_selfie()
        for label, content_type, data in built:
            one_selfie()
            with HealthProbe(base) if health else _Null() as probe:
                results, during = _send(base, data, content_type, timeout, concurrent)
            status, code, server_ms, wall = max(results, key=lambda result: result[3])
            statuses = sorted({str(result[0]) for result in results})
            log_text = log_path.read_text(errors="replace")
            count = log_text.count("WORKER TIMEOUT")
            killed, timeouts_seen = count - timeouts_seen, count
            hwm = worker_hwm(base)
            rise = max([value - seen.get(pid, value) for pid, value in hwm.items()] + [0])
            seen.update(hwm)
            row = [label, f"{len(data):,}", "/".join(statuses), code[:28],
                   f"{server_ms:.0f}" if server_ms is not None else "-", f"{wall * 1000:.0f}", wall,
                   f"{probe.worst():.0f}" if health and probe.worst() else "-",
                   f"{during * 1000:.0f}" if during is not None else "-",
                   (f"{max(hwm.values()):.0f}" + (f" (+{rise:.0f})" if rise >= 1 else "")) if hwm else "-",
                   "YES" if killed else ""]
            rows.append(row)
            print("  ".join(str(x) for x in row[:6]) + f"  hz {row[7]}  selfie {row[8]}  hwm {row[9]}  {row[10]}",
                  flush=True)
            if killed:  # wait for the replacement worker before the next input
                _wait_workers(base, workers)
        after = worker_hwm(base)
        log_text = log_path.read_text(errors="replace")
    reference = statistics.median(selfie_walls) if selfie_walls else float("nan")
    print(f"\nselfie (astronaut 512 px JPEG, {len(selfie):,} B): median wall {reference * 1000:.0f} ms, "
          f"server {statistics.median(selfie_server):.0f} ms over {len(selfie_walls)} runs")
    for row in rows:
        row[6] = f"{row[6] / reference:.1f}x"
    print_table(["input", "bytes", "status", "code", "server ms", "wall ms", "vs selfie", "healthz max ms",
                 "selfie during ms", "VmHWM MB (rise)", "WORKER TIMEOUT"], rows)
    print("\nworker VmHWM before: " + ", ".join(f"{pid}={v:.0f}" for pid, v in sorted(before.items())) + " MB")
    print("worker VmHWM after:  " + ", ".join(f"{pid}={v:.0f}" for pid, v in sorted(after.items())) + " MB")
    print(f"gunicorn log: {log_text.count('WORKER TIMEOUT')} WORKER TIMEOUT, "
          f"{log_text.count('SIGKILL')} SIGKILL lines ({log_path})")
    return rows


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False


def _wait_workers(base, workers, limit=120):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(base.worker_pids()) >= workers:
            status = post(base, SELFIE[1](), SELFIE[0], 30)[0]
            if status == 200:
                return
        time.sleep(1)


# Structure survey (--structure): what real files hold, to set the limits of a structure check.
_SURVEY = {
    "JPEG": ["scans", "segments", "appn_segments", "com_segments", "metadata_bytes", "largest_metadata_segment",
             "exif_segments", "table_segments", "max_fill_run", "junk_bytes", "trailing_bytes", "restart_markers"],
    "PNG": ["chunks", "ancillary_chunks", "ancillary_bytes", "largest_ancillary_chunk", "unknown_chunks",
            "text_chunks", "text_bytes", "compressed_chunks", "idat_chunks", "chunks_before_idat", "trailing_bytes"],
    "WEBP": ["chunks", "unknown_chunks", "unknown_bytes", "metadata_bytes", "largest_chunk", "frames",
             "trailing_bytes"],
}


def survey(paths, every=False):
    """Walk every JPEG/PNG/WebP under `paths` (files or folders); per folder given and format, print each
    field's maximum (and the file holding it), and with `every` one row per file."""
    for root in map(Path, paths):
        files = sorted(p for p in (root.rglob("*") if root.is_dir() else [root]) if p.is_file())
        walks = {}
        for path in files:
            walked = crafted.structure(path.read_bytes())
            if walked is not None and (walked.get("sof") or walked.get("chunks") or walked.get("width")):
                walks.setdefault(walked["format"], []).append((path.name, walked))
        for fmt, items in walks.items():
            fields = _SURVEY[fmt]
            print(f"\n{root} {fmt}: {len(items)} files")
            if every:
                print_table(["file", "progressive" if fmt == "JPEG" else "size", *fields],
                            [[name[-40:], w.get("progressive", f"{w['width']}x{w['height']}"),
                              *[w[f] for f in fields]] for name, w in items])
            rows = []
            for field in fields:
                name, top = max(items, key=lambda item: item[1][field])
                median = statistics.median([w[field] for _, w in items])
                rows.append([field, f"{top[field]:,}", name[-48:], f"{median:,.0f}"])
            if fmt == "JPEG":
                progressive = [w for _, w in items if w["progressive"]]
                coefficient = max((w["coefficient_bytes"] for _, w in items), default=0)
                rows.append(["progressive files", f"{len(progressive)}", "", ""])
                rows.append(["coefficient MiB (max)", f"{coefficient / 1048576:.0f}", "", ""])
            print_table(["field", "max", "file with the max", "median"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated FAMILY[:N] inputs (default: all)")
    parser.add_argument("--quick", action="store_true", help="quick sizes; skips inputs that run past 60 s today")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=70.0, help="per-request client timeout, s")
    parser.add_argument("--selfies", type=int, default=5, help="at least this many reference selfies")
    parser.add_argument("--concurrent", type=int, default=1,
                        help="send N copies of each input at once, and a selfie 0.5 s into them")
    parser.add_argument("--no-health", action="store_true", help="do not poll /healthz during each input")
    parser.add_argument("--list", action="store_true", help="list the input families and exit")
    parser.add_argument("--structure", nargs="+", metavar="PATH",
                        help="no server: walk the JPEG/PNG/WebP files under each PATH and print their maxima")
    parser.add_argument("--every", action="store_true", help="with --structure: one row per file too")
    args = parser.parse_args(argv)
    if args.structure:
        survey(args.structure, args.every)
        return
    if args.list:
        print_table(["family", "type", "N is", "default N", "quick N"],
                    [[name, spec[0], spec[2], ",".join(map(str, spec[3])), ",".join(map(str, spec[4])) or "-"]
                     for name, spec in FAMILIES.items()])
        return
    run(parse_inputs(args.only, args.quick), args.workers, args.timeout, args.selfies, not args.no_health,
        args.concurrent)


if __name__ == "__main__":
    sys.exit(main())
