"""A Hugging Face hub stand-in on loopback: serves `resolve` downloads as huggingface_hub asks.

huggingface_hub sends HEAD then GET to {endpoint}/{repo}/resolve/{revision}/{file} and needs
X-Repo-Commit, an ETag and Content-Length. Repos are dicts {filename: bytes}; tests change
them (LFS pointers, truncated files) and can stop the server to prove offline use.
"""
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class FakeHub:
    """Repos served over HTTP on 127.0.0.1; `requests` counts what was asked for."""

    def __init__(self, port):
        self.repos = {}
        self.requests = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.endpoint = f"http://127.0.0.1:{port}"

    def publish(self, repo_id, files):
        """Put (or replace) a repo's files."""
        self.repos[repo_id] = dict(files)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def _lookup(self, path):
        # /{org}/{name}/resolve/{revision}/{file...}
        parts = unquote(path.split("?", 1)[0]).strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return None, None, None
        repo_id, revision, filename = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        files = self.repos.get(repo_id)
        if files is None or filename not in files:
            return repo_id, revision, None
        return repo_id, revision, files[filename]

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, with_body):
                hub.requests.append((self.command, self.path))
                repo_id, revision, content = hub._lookup(self.path)
                commit = hashlib.sha1(f"{repo_id}@{revision}".encode()).hexdigest()
                if content is None:
                    self.send_response(404)
                    self.send_header("X-Repo-Commit", commit)
                    self.send_header("X-Error-Code", "EntryNotFound" if repo_id in hub.repos else "RepositoryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("X-Repo-Commit", commit)
                self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
                self.send_header("Content-Length", str(len(content)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if with_body:
                    self.wfile.write(content)

            def do_HEAD(self):  # noqa: N802 (http.server's naming)
                self._answer(False)

            def do_GET(self):  # noqa: N802
                self._answer(True)

            def log_message(self, *args):
                pass

        return Handler
