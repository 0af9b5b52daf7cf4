"""A local Hugging Face Hub on loopback: the HTTP API that huggingface_hub, transformers,
sentence-transformers, open_clip and datasets call, over stand-in files under the real ids.

Clients reach it through the libraries' own switch, ``HF_ENDPOINT=http://127.0.0.1:<port>``; nothing
in the notebooks knows it is there. It answers what the real Hub answers for the calls those
libraries make (checked against huggingface_hub 2.x's client code):

* ``HEAD``/``GET /<repo>/resolve/<rev>/<path>`` and ``/datasets/<repo>/resolve/<rev>/<path>``:
  the file, with ``X-Repo-Commit``, ``ETag`` and ``Content-Length``; ``Range`` requests answer 206;
* ``GET /api/{models,datasets}/<repo>[/revision/<rev>]``: the repository's info with its siblings;
* ``GET /api/{models,datasets}/<repo>/tree/<rev>[/<path>]``: the file listing (``recursive=``);
* ``POST /api/{models,datasets}/<repo>/paths-info/<rev>``: the entries for the paths asked;
* ``GET /api/models/<repo>/discussions`` and ``/commits/<rev>``: no discussions, one commit
  (transformers' safetensors-conversion thread asks after loading a ``pytorch_model.bin``); ``GET /api/agent-harnesses``: huggingface_hub's
  registry of coding agents, answered empty;
* errors with the Hub's ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``),
  so the client raises the same exception classes it raises against the real Hub.

Every request is logged. A repository that is not served, or a file the contract does not list for
it, is recorded as a contract violation (``violations()``): the rehearsal fails on those.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Repository:
    """One served repository: ``files`` maps each path in the repository to the local file served."""

    repo_id: str
    kind: str  # "model" or "dataset"
    files: dict[str, Path]
    # The file names the real repository has (from the contract); empty means "not checked".
    contract_files: frozenset[str] = frozenset()
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(f"{self.kind}:{self.repo_id}".encode())
        for name in sorted(self.files):
            digest.update(name.encode())
            digest.update(str(self.files[name].stat().st_size).encode())
        self.sha = digest.hexdigest()

    def entry(self, name: str) -> dict:
        size = self.files[name].stat().st_size
        oid = hashlib.sha1(f"{self.sha}:{name}".encode()).hexdigest()
        return {"type": "file", "path": name, "size": size, "oid": oid}

    def folders(self) -> set[str]:
        found = set()
        for name in self.files:
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                found.add("/".join(parts[:depth]))
        return found


@dataclass
class Request:
    method: str
    path: str
    status: int
    note: str = ""


class LoopbackServer:
    """A threaded HTTP server on loopback that keeps a log of what it answered; ``with`` runs it.

    ``handler`` is a ``BaseHTTPRequestHandler`` class; each request's handler finds this object as
    ``self.service``.
    """

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0):
        self.log: list[Request] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), type(handler.__name__, (handler,), {"service": self}))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def record(self, request: Request) -> None:
        with self._lock:
            self.log.append(request)

    def take_log(self) -> list[Request]:
        """The requests since the last call (one notebook's run), emptying the log."""
        with self._lock:
            taken, self.log = self.log, []
        return taken


class LocalHub(LoopbackServer):
    """``with LocalHub(repositories) as hub:`` serves them on ``hub.endpoint`` until the block ends."""

    def __init__(self, repositories: list[Repository], host: str = "127.0.0.1", port: int = 0):
        self.repositories = {(repo.kind, repo.repo_id): repo for repo in repositories}
        super().__init__(HubHandler, host, port)

    @property
    def endpoint(self) -> str:
        return self.url


class HubHandler(BaseHTTPRequestHandler):
    service: LocalHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # the hub keeps its own log
        pass

    # -- routing ----------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self._route(send_body=False)

    def do_GET(self) -> None:
        self._route(send_body=True)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self._route(send_body=True, form=parse_qs(body))

    def _route(self, send_body: bool, form: dict | None = None) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query)
        if path == "/api/agent-harnesses":
            # huggingface_hub 2.x fetches the Hub's registry of AI coding agents (best-effort
            # telemetry, once a day); an empty registry is what it falls back to when offline.
            return self._json(None, {"standardEnvVars": [], "harnesses": {}}, send_body)
        if path.startswith("/api/models/") or path.startswith("/api/datasets/"):
            kind = "model" if path.startswith("/api/models/") else "dataset"
            return self._api(kind, path.split("/", 3)[3], query, form, send_body)
        kind = "model"
        if path.startswith("/datasets/"):
            kind, path = "dataset", path[len("/datasets"):]
        if "/resolve/" in path:
            repo_id, _, rest = path.lstrip("/").partition("/resolve/")
            revision, _, filename = rest.partition("/")
            return self._resolve(kind, repo_id, revision, filename, send_body)
        self._error(HTTPStatus.NOT_FOUND, "", f"outside the contract: route {path} is not one the local Hub serves")

    # -- answers ----------------------------------------------------------------------------
    def _repository(self, kind: str, repo_id: str, revision: str | None) -> Repository | None:
        repo = self.service.repositories.get((kind, repo_id))
        if repo is None:
            self._error(HTTPStatus.NOT_FOUND, "RepoNotFound",
                        f"outside the contract: {kind} repository {repo_id!r} is not served")
            return None
        if revision not in (None, "main", repo.sha):
            self._error(HTTPStatus.NOT_FOUND, "RevisionNotFound",
                        f"outside the contract: revision {revision!r} of {repo_id!r} is not served")
            return None
        return repo

    def _resolve(self, kind: str, repo_id: str, revision: str, filename: str, send_body: bool) -> None:
        repo = self._repository(kind, repo_id, revision)
        if repo is None:
            return
        if filename not in repo.files:
            # The real Hub answers 404 for a file the repository does not have; libraries probe for
            # optional files (generation_config.json, adapter_config.json ...) this way.
            listed = filename in repo.contract_files
            note = (f"not served: {repo_id}/{filename} (the real repository has it)" if listed
                    else f"absent: {repo_id}/{filename}")
            return self._error(HTTPStatus.NOT_FOUND, "EntryNotFound", note, repo=repo)
        note = ""
        if repo.contract_files and filename not in repo.contract_files:
            note = f"outside the contract: {repo_id}/{filename} is not a file of the real repository"
        self._send_file(repo, filename, send_body, note)

    def _send_file(self, repo: Repository, filename: str, send_body: bool, note: str) -> None:
        path = repo.files[filename]
        size = path.stat().st_size
        start, end = 0, size - 1
        status = HTTPStatus.OK
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            first, _, last = wanted[len("bytes="):].partition("-")
            if first:
                start, end = int(first), min(int(last) if last else size - 1, size - 1)
            else:  # a suffix: the last N bytes
                start = max(size - int(last), 0)
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Length", str(max(end - start + 1, 0)))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("X-Repo-Commit", repo.sha)
        self.send_header("ETag", f'"{repo.entry(filename)["oid"]}"')
        self.send_header("Accept-Ranges", "bytes")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        self.service.record(Request(self.command, self.path, status, note))
        if send_body and end >= start:
            with open(path, "rb") as source:
                source.seek(start)
                remaining = end - start + 1
                while remaining:
                    chunk = source.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)

    def _api(self, kind: str, rest: str, query: dict, form: dict | None, send_body: bool) -> None:
        if "/commits/" in rest:
            # The same thread asks for the repository's commits (the newest one's id).
            repo_id, _, revision = rest.partition("/commits/")
            repo = self._repository(kind, repo_id, revision)
            if repo is not None:
                commit = {"id": repo.sha, "title": "stand-in", "message": "", "authors": [],
                          "date": "2026-01-01T00:00:00.000Z"}
                self._json(repo, [commit], send_body)
            return
        if rest.endswith("/discussions"):
            # transformers, after loading a repository that has only pytorch_model.bin, looks for the
            # Hub's safetensors conversion pull request in a background thread; the stand-ins have none.
            repo = self._repository(kind, rest[: -len("/discussions")], None)
            if repo is not None:
                self._json(repo, {"discussions": [], "count": 0, "start": 0, "numClosedDiscussions": 0}, send_body)
            return
        for verb in ("/revision/", "/tree/", "/paths-info/"):
            if verb in rest:
                repo_id, _, tail = rest.partition(verb)
                revision, _, subpath = tail.partition("/")
                break
        else:
            verb, repo_id, revision, subpath = "", rest.rstrip("/"), None, ""
        repo = self._repository(kind, repo_id, revision)
        if repo is None:
            return
        if verb in ("", "/revision/"):
            siblings = [{"rfilename": name, "size": repo.entry(name)["size"]} for name in sorted(repo.files)]
            info = {"id": repo_id, "_id": repo.sha[:24], "sha": repo.sha, "private": False, "gated": False,
                    "disabled": False, "siblings": siblings, "tags": [], "downloads": 0, "likes": 0,
                    "cardData": {}, "lastModified": "2026-01-01T00:00:00.000Z"}
            return self._json(repo, info, send_body)
        if verb == "/tree/":
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            prefix = subpath.strip("/")
            return self._json(repo, self._tree(repo, prefix, recursive), send_body)
        paths = (form or {}).get("paths", [])
        entries = [repo.entry(p) for p in paths if p in repo.files]
        entries += [{"type": "directory", "path": p, "oid": repo.sha} for p in paths if p in repo.folders()]
        self._json(repo, entries, send_body)

    @staticmethod
    def _tree(repo: Repository, prefix: str, recursive: bool) -> list[dict]:
        base = f"{prefix}/" if prefix else ""
        files = [name for name in sorted(repo.files) if name.startswith(base)]
        folders = sorted(f for f in repo.folders() if f.startswith(base))
        if not recursive:
            files = [name for name in files if "/" not in name[len(base):]]
            folders = [f for f in folders if "/" not in f[len(base):]]
        return ([{"type": "directory", "path": f, "oid": repo.sha} for f in folders]
                + [repo.entry(name) for name in files])

    def _json(self, repo: Repository | None, payload, send_body: bool) -> None:
        body = json.dumps(payload).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if repo is not None:
            self.send_header("X-Repo-Commit", repo.sha)
        self.end_headers()
        self.service.record(Request(self.command, self.path, HTTPStatus.OK))
        if send_body:
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, code: str, note: str, repo: Repository | None = None) -> None:
        body = json.dumps({"error": note}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
            self.send_header("X-Error-Message", note)
        if repo is not None:
            self.send_header("X-Repo-Commit", repo.sha)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.service.record(Request(self.command, self.path, status, note))
        if self.command != "HEAD":
            self.wfile.write(body)
