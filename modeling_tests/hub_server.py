"""A small Hugging Face Hub-compatible HTTP server for tests (standard library only).

The real client code (huggingface_hub's `HfApi.create_repo` / `upload_folder`, transformers' `from_pretrained`)
talks to it over HTTP on 127.0.0.1, so the push/load round trip is tested end to end without mocks and
without network access. It implements the requests huggingface_hub 2.4 and transformers 5.x make
(read from `hf_api.py`, `_commit_api.py`, `_upload_pipeline.py`, `lfs.py`, `file_download.py`):

- `POST /api/repos/create`, `POST /api/{type}s/{repo}/branch/{branch}`, `GET /api/whoami-v2`
- `POST /api/validate-yaml` (checks the README front matter is delimited; the YAML itself is parsed by the tests)
- `POST /api/{type}s/{repo}/preupload/{rev}`: answers `regular` for every file, or, with `upload_mode="lfs"`,
  `lfs` for binary/weight files the way the Hub's default `.gitattributes` does
- `POST {repo}.git/info/lfs/objects/batch`, presigned `PUT` of the object, `POST .../verify`
- `POST /api/{type}s/{repo}/commit/{rev}` (NDJSON: header, file, lfsFile, deletedFile, deletedFolder)
- `GET /api/{type}s/{repo}[/revision/{rev}]`, `GET .../tree/{rev}[/{path}]`, `POST .../paths-info/{rev}`
- `HEAD`/`GET /{repo}/resolve/{rev}/{path}` with `X-Repo-Commit`, `ETag`, and `X-Linked-Etag` /
  `X-Linked-Size` for LFS files; `X-Error-Code` `RepoNotFound` / `RevisionNotFound` / `EntryNotFound` on 404
- `GET /api/agent-harnesses` (huggingface_hub's user-agent code asks for it once a day)

Xet is never advertised: download responses carry no `X-Xet-Hash` header and no `xet-auth` link (the only
triggers of a xet download in `file_download.py`), and the xet token routes are not served. huggingface_hub
still picks xet for *uploads* of `lfs` files by itself whenever `hf_xet` is installed, so LFS-mode clients must
run with `HF_HUB_DISABLE_XET=1`; any request to a xet route shows up in `HubServer.requests` so a test can
assert that none happened.

Auth follows the Hub: a wrong token is a 401 with `X-Error-Message: Invalid credentials in Authorization
header` on every route; writes need a valid token whose user (or one of its orgs) owns the namespace;
private repos answer 401 `RepoNotFound` to anonymous readers.

Example:
    >>> server = HubServer(tokens={"hf_secret": "alice"})
    >>> url = server.start()                      # http://127.0.0.1:<free port>
    >>> server.fail("POST", r"/commit/", 412)     # next commit answers 412 Precondition Failed
    >>> server.stop()
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# Files the Hub's default `.gitattributes` stores with LFS (a subset: what model repos hold), plus the size rule.
LFS_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".msgpack",
    ".onnx",
    ".model",
    ".npy",
    ".zip",
)
LFS_MIN_SIZE = 10 * 1024 * 1024
REPO_TYPES = ("model", "dataset", "space")
_REPO = r"(?P<repo>[^/]+/[^/]+)"


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob (what the Hub returns as `oid` / `ETag` of a regular file)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file that git stores in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass
class StoredFile:
    """One file of a commit: regular content, or a reference into the LFS store."""

    size: int
    sha256: str
    content: bytes | None = None  # regular files only; LFS content lives in HubServer.lfs_store

    @property
    def is_lfs(self) -> bool:
        return self.content is None

    @property
    def git_oid(self) -> str:
        data = lfs_pointer(self.sha256, self.size) if self.is_lfs else self.content
        return git_blob_oid(data)


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    date: str
    files: dict[str, StoredFile]


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    created_at: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        """A branch name or a full commit oid -> the commit."""
        oid = self.branches.get(revision, revision)
        return self.commits.get(oid)


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    handled: bool
    origin: str | None = None  # `origin/<x>` of the User-Agent: huggingface_hub adds HF_HUB_USER_AGENT_ORIGIN


@dataclass
class _FailRule:
    method: str
    pattern: re.Pattern
    body_pattern: re.Pattern | None
    status: int
    message: str
    error_code: str | None
    times: int


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class HubError(Exception):
    """Raised inside a handler to answer with an error status (the Hub's JSON error body + headers)."""

    def __init__(
        self,
        status: int,
        message: str,
        error_code: str | None = None,
        headers: dict | None = None,
        body: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.headers = headers or {}
        self.body = body or {}  # extra fields of the JSON error body


class HubServer:
    """Owns the repos, the LFS store and the request log; serves them on a free port from a background thread.

    Args:
        tokens: token -> user name. Every token may write to the user's namespace and to `orgs`.
        orgs: organisation namespaces every valid token may write to.
        upload_mode: `"regular"` (every file goes inline in the commit) or `"lfs"` (weights and binaries go
            through the LFS batch API, like on the Hub). `upload_modes[repo_id]` overrides it per repo.
    """

    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        orgs: tuple[str, ...] = (),
        upload_mode: str = "regular",
    ) -> None:
        if upload_mode not in ("regular", "lfs"):
            raise ValueError(f"upload_mode must be 'regular' or 'lfs', got {upload_mode!r}")
        self.tokens = dict(tokens or {})
        self.orgs = tuple(orgs)
        self.upload_mode = upload_mode
        self.upload_modes: dict[str, str] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_store: dict[str, bytes] = {}
        self.requests: list[RequestRecord] = []
        self._upload_grants: dict[str, str] = {}  # secret in the presigned PUT url -> sha256 it may upload
        self._fail_rules: list[_FailRule] = []
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ------------------------------------------------------------------ lifecycle and test controls

    def start(self) -> str:
        """Binds 127.0.0.1 on a free port, serves in a daemon thread, returns the base URL."""
        handler = type("BoundHubHandler", (_HubHandler,), {"hub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        message: str | None = None,
        error_code: str | None = None,
        times: int = 1,
        body_regex: str | None = None,
    ) -> None:
        """Makes the next `times` requests whose path matches `path_regex` (and body `body_regex`, for routes
        without the repo in the path such as `/api/repos/create`) answer `status` (error injection)."""
        rule = _FailRule(
            method.upper(),
            re.compile(path_regex),
            re.compile(body_regex) if body_regex else None,
            status,
            message or HTTPStatus(status).phrase,
            error_code,
            times,
        )
        with self._lock:
            self._fail_rules.append(rule)

    def reset_log(self) -> None:
        """Forgets recorded requests and pending failures (repos and LFS objects stay)."""
        with self._lock:
            self.requests.clear()
            self._fail_rules.clear()

    def calls(self, method: str | None = None, path_regex: str = "") -> list[RequestRecord]:
        """Recorded requests, optionally filtered by method and a regex searched in the path."""
        pattern = re.compile(path_regex)
        with self._lock:
            return [
                r for r in self.requests if (method is None or r.method == method) and pattern.search(r.path)
            ]

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, bytes]:
        """Content of every file of `repo_id` at `revision` (LFS files resolved from the store)."""
        with self._lock:
            commit = self.repos[(repo_type, repo_id)].resolve(revision)
            return {path: self._content(f) for path, f in commit.files.items()}

    def file_entries(
        self, repo_id: str, revision: str = "main", repo_type: str = "model"
    ) -> dict[str, StoredFile]:
        with self._lock:
            return dict(self.repos[(repo_type, repo_id)].resolve(revision).files)

    def commits(self, repo_id: str, repo_type: str = "model") -> list[Commit]:
        with self._lock:
            return list(self.repos[(repo_type, repo_id)].commits.values())

    def _content(self, stored: StoredFile) -> bytes:
        return self.lfs_store[stored.sha256] if stored.is_lfs else stored.content

    # ------------------------------------------------------------------ helpers used by the handler

    def _take_failure(self, method: str, path: str, body: bytes) -> _FailRule | None:
        with self._lock:
            for rule in self._fail_rules:
                body_ok = rule.body_pattern is None or rule.body_pattern.search(body.decode(errors="replace"))
                if rule.method == method and rule.pattern.search(path) and body_ok and rule.times > 0:
                    rule.times -= 1
                    return rule
        return None

    def _user(self, authorization: str | None) -> str | None:
        """User of the bearer token; None when anonymous. A token that is not ours is a 401, like the Hub."""
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def _writable_namespaces(self, user: str) -> set[str]:
        return {user, *self.orgs}

    def _repo_for_read(self, repo_type: str, repo_id: str, user: str | None) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(404, "Repository not found", "RepoNotFound")
        if repo.private and (user is None or repo_id.split("/")[0] not in self._writable_namespaces(user)):
            # The Hub hides private repos: 401 + RepoNotFound, whatever the reason.
            raise HubError(401, "Invalid username or password.", "RepoNotFound")
        return repo

    def _repo_for_write(self, repo_type: str, repo_id: str, user: str | None) -> Repo:
        if user is None:
            raise HubError(401, "You must be authenticated to write to a repository")
        repo = self._repo_for_read(repo_type, repo_id, user)
        if repo_id.split("/")[0] not in self._writable_namespaces(user):
            raise HubError(403, f"You don't have the rights to write to {repo_id}")
        return repo

    @staticmethod
    def _commit_for(repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit


class _HubHandler(BaseHTTPRequestHandler):
    """Routes one request to the HubServer `hub` bound on the subclass."""

    hub: HubServer
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects; every answer carries Content-Length

    # Routes: (method, regex, handler name). The repo type prefix of API routes is `models`/`datasets`/`spaces`.
    ROUTES = [
        ("GET", r"^/api/agent-harnesses$", "agent_harnesses"),
        ("GET", r"^/api/whoami-v2$", "whoami"),
        ("POST", r"^/api/repos/create$", "create_repo"),
        ("POST", r"^/api/validate-yaml$", "validate_yaml"),
        ("POST", rf"^/api/(?P<type>model|dataset|space)s/{_REPO}/branch/(?P<rev>[^/]+)$", "create_branch"),
        ("POST", rf"^/api/(?P<type>model|dataset|space)s/{_REPO}/preupload/(?P<rev>[^/]+)$", "preupload"),
        ("POST", rf"^/api/(?P<type>model|dataset|space)s/{_REPO}/commit/(?P<rev>[^/]+)$", "commit"),
        ("POST", rf"^/api/(?P<type>model|dataset|space)s/{_REPO}/paths-info/(?P<rev>[^/]+)$", "paths_info"),
        (
            "GET",
            rf"^/api/(?P<type>model|dataset|space)s/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?$",
            "tree",
        ),
        ("GET", rf"^/api/(?P<type>model|dataset|space)s/{_REPO}(?:/revision/(?P<rev>[^/]+))?$", "repo_info"),
        ("POST", rf"^/(?P<prefix>datasets/|spaces/)?{_REPO}\.git/info/lfs/objects/batch$", "lfs_batch"),
        ("POST", rf"^/(?P<prefix>datasets/|spaces/)?{_REPO}\.git/info/lfs/objects/verify$", "lfs_verify"),
        ("PUT", r"^/__lfs_upload/(?P<oid>[0-9a-f]{64})$", "lfs_put"),
        ("HEAD", rf"^/(?P<prefix>datasets/|spaces/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$", "resolve"),
        ("GET", rf"^/(?P<prefix>datasets/|spaces/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$", "resolve"),
    ]
    _COMPILED = [(m, re.compile(p), name) for m, p, name in ROUTES]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass  # the request log lives in HubServer.requests; stderr stays quiet in tests

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ------------------------------------------------------------------ plumbing

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path, self.query = split.path, parse_qs(split.query)
        status, handled = 500, False
        try:
            # The body is read first so that keep-alive connections stay in sync even on errors.
            self.body = self._read_body()
            rule = self.hub._take_failure(method, path, self.body)
            if rule is not None:
                handled = True
                raise HubError(rule.status, rule.message, rule.error_code)
            for route_method, regex, name in self._COMPILED:
                match = regex.match(path)
                if route_method == method and match:
                    handled = True
                    params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                    with self.hub._lock:
                        user = self.hub._user(self.headers.get("Authorization"))
                        status, headers, payload = getattr(self, "route_" + name)(user=user, **params)
                    break
            else:
                raise HubError(404, f"Not found: {method} {path}")
        except HubError as err:
            status = err.status
            headers = {"X-Error-Message": err.message, **err.headers}
            if err.error_code:
                headers["X-Error-Code"] = err.error_code
            payload = {"error": err.message, **err.body}
        except Exception as err:  # a server bug must show up as a 500, not as a hung client
            status, headers, payload = 500, {"X-Error-Message": "Internal error"}, {"error": repr(err)}
        origin = re.search(r"origin/([^;\s]+)", self.headers.get("User-Agent", ""))
        with self.hub._lock:
            self.hub.requests.append(RequestRecord(method, path, status, handled, origin and origin.group(1)))
        self._send(method, status, headers, payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, method: str, status: int, headers: dict, payload: Any) -> None:
        if isinstance(payload, bytes):
            body, content_type = payload, headers.pop("Content-Type", "application/octet-stream")
        else:
            body, content_type = json.dumps(payload).encode(), headers.pop("Content-Type", "application/json")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def _json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except json.JSONDecodeError as err:
            raise HubError(400, f"Invalid JSON body: {err}") from err

    @staticmethod
    def _type(type: str | None = None, prefix: str | None = None) -> str:  # noqa: A002 - route group name
        if type:
            return type
        return {"datasets/": "dataset", "spaces/": "space"}.get(prefix or "", "model")

    # ------------------------------------------------------------------ account and repos

    def route_agent_harnesses(self, user: str | None) -> tuple:
        return 200, {}, {"standardEnvVars": [], "harnesses": {}}

    def route_whoami(self, user: str | None) -> tuple:
        if user is None:
            raise HubError(401, "Invalid username or password.")
        orgs = [{"name": org, "type": "org"} for org in self.hub.orgs]
        return (
            200,
            {},
            {"type": "user", "name": user, "orgs": orgs, "auth": {"accessToken": {"role": "write"}}},
        )

    def route_create_repo(self, user: str | None) -> tuple:
        if user is None:
            raise HubError(401, "You must be authenticated to create a repository")
        data = self._json()
        name, namespace = data.get("name"), data.get("organization") or user
        repo_type = data.get("type") or "model"
        if not name or repo_type not in REPO_TYPES:
            raise HubError(400, "Invalid repo name or type")
        if namespace not in self.hub._writable_namespaces(user):
            raise HubError(
                403, f"You don't have the rights to create a {repo_type} under the namespace {namespace}"
            )
        repo_id = f"{namespace}/{name}"
        url = self.hub.url + ("" if repo_type == "model" else f"/{repo_type}s") + f"/{repo_id}"
        if (repo_type, repo_id) in self.hub.repos:
            # The Hub names the existing repo: huggingface_hub's create_repo(exist_ok=True) returns its url.
            raise HubError(409, f"You already created this {repo_type} repo", body={"url": url})
        repo = Repo(
            repo_id, repo_type, data.get("visibility") == "private" or bool(data.get("private")), _now()
        )
        # A new Hub repo starts with one commit holding `.gitattributes`.
        attributes = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES).encode()
        first = Commit(
            secrets.token_hex(20),
            None,
            "initial commit",
            _now(),
            {
                ".gitattributes": StoredFile(
                    len(attributes), hashlib.sha256(attributes).hexdigest(), attributes
                )
            },
        )
        repo.commits[first.oid] = first
        repo.branches["main"] = first.oid
        self.hub.repos[(repo_type, repo_id)] = repo
        return 200, {}, {"url": url, "name": repo_id, "id": secrets.token_hex(12)}

    def route_create_branch(self, user: str | None, type: str, repo: str, rev: str) -> tuple:  # noqa: A002
        hub_repo = self.hub._repo_for_write(type, repo, user)
        if rev in hub_repo.branches:
            raise HubError(409, f"Reference {rev} already exists")
        start = self._json().get("startingPoint") or "main"
        hub_repo.branches[rev] = self.hub._commit_for(hub_repo, start).oid
        return 200, {}, {}

    def route_validate_yaml(self, user: str | None) -> tuple:
        content = self._json().get("content", "")
        # The Hub parses the YAML block; stdlib has no YAML parser, so only the delimiters are checked here.
        if content.startswith("---") and not re.search(r"^---\s*$", content[3:], flags=re.MULTILINE):
            return (
                400,
                {},
                {"errors": [{"message": "YAML front matter is not closed by '---'"}], "warnings": []},
            )
        return 200, {}, {"errors": [], "warnings": []}

    def route_repo_info(self, user: str | None, type: str, repo: str, rev: str = "main") -> tuple:  # noqa: A002
        hub_repo = self.hub._repo_for_read(type, repo, user)
        commit = self.hub._commit_for(hub_repo, rev)
        info = {
            "_id": hashlib.sha1(repo.encode()).hexdigest()[:24],
            "id": repo,
            "author": repo.split("/")[0],
            "sha": commit.oid,
            "lastModified": commit.date,
            "createdAt": hub_repo.created_at,
            "private": hub_repo.private,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": [{"rfilename": path} for path in sorted(commit.files)],
        }
        if type == "model":
            info["modelId"] = repo
        return 200, {}, info

    # ------------------------------------------------------------------ tree listings

    def _entry(self, path: str, stored: StoredFile) -> dict:
        entry = {"type": "file", "oid": stored.git_oid, "size": stored.size, "path": path}
        if stored.is_lfs:
            pointer = lfs_pointer(stored.sha256, stored.size)
            entry["lfs"] = {"oid": stored.sha256, "size": stored.size, "pointerSize": len(pointer)}
        return entry

    @staticmethod
    def _folder(path: str) -> dict:
        return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": 0, "path": path}

    def route_tree(self, user: str | None, type: str, repo: str, rev: str, path: str = "") -> tuple:  # noqa: A002
        commit = self.hub._commit_for(self.hub._repo_for_read(type, repo, user), rev)
        recursive = self.query.get("recursive", ["false"])[0].lower() == "true"
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        if prefix and not any(p.startswith(prefix) for p in commit.files):
            raise HubError(404, f"{path} does not exist on {rev}", "EntryNotFound")
        entries, folders = [], set()
        for file_path in sorted(commit.files):
            if not file_path.startswith(prefix):
                continue
            parts = file_path[len(prefix) :].split("/")
            for depth in range(1, len(parts) if recursive else min(2, len(parts))):
                folders.add(prefix + "/".join(parts[:depth]))
            if recursive or len(parts) == 1:
                entries.append(self._entry(file_path, commit.files[file_path]))
        return 200, {}, [self._folder(f) for f in sorted(folders)] + entries

    def route_paths_info(self, user: str | None, type: str, repo: str, rev: str) -> tuple:  # noqa: A002
        commit = self.hub._commit_for(self.hub._repo_for_read(type, repo, user), rev)
        form = parse_qs(self.body.decode())  # huggingface_hub posts a form: paths=a&paths=b&expand=False
        answer = []
        for path in form.get("paths", []):
            if path in commit.files:
                answer.append(self._entry(path, commit.files[path]))
            elif any(p.startswith(path.rstrip("/") + "/") for p in commit.files):
                answer.append(self._folder(path.rstrip("/")))
        return 200, {}, answer

    # ------------------------------------------------------------------ upload: preupload, LFS, commit

    def _upload_mode(self, repo: str, path: str, size: int, sample: bytes) -> str:
        if self.hub.upload_modes.get(repo, self.hub.upload_mode) == "regular":
            return "regular"
        binary = b"\0" in sample
        return "lfs" if path.endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE or binary else "regular"

    def route_preupload(self, user: str | None, type: str, repo: str, rev: str) -> tuple:  # noqa: A002
        hub_repo = self.hub._repo_for_write(type, repo, user)
        commit = self.hub._commit_for(hub_repo, rev)
        files = []
        for item in self._json().get("files", []):
            sample = base64.b64decode(item.get("sample", ""))
            existing = commit.files.get(item["path"])
            mode = self._upload_mode(repo, item["path"], int(item["size"]), sample)
            # `oid` lets the client skip unchanged files: sha256 for LFS, git blob sha1 for regular files.
            oid = None if existing is None else (existing.sha256 if existing.is_lfs else existing.git_oid)
            files.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return 200, {}, {"files": files, "commitOid": commit.oid}

    def route_lfs_batch(self, user: str | None, repo: str, prefix: str | None = None) -> tuple:
        self.hub._repo_for_write(self._type(prefix=prefix), repo, user)
        data = self._json()
        if data.get("operation") != "upload":
            raise HubError(400, "Only the upload operation is supported")
        objects = []
        for obj in data.get("objects", []):
            oid, size = obj["oid"], int(obj["size"])
            answer = {"oid": oid, "size": size, "authenticated": True}
            if oid not in self.hub.lfs_store:  # no "actions" = already stored, the client skips it
                grant = secrets.token_urlsafe(16)
                self.hub._upload_grants[grant] = oid
                answer["actions"] = {
                    "upload": {
                        "href": f"{self.hub.url}/__lfs_upload/{oid}?grant={grant}",
                        "expires_in": 3600,
                    },
                    "verify": {
                        "href": f"{self.hub.url}/{prefix or ''}{repo}.git/info/lfs/objects/verify",
                        "expires_in": 3600,
                    },
                }
            objects.append(answer)
        headers = {"Content-Type": "application/vnd.git-lfs+json"}
        return 200, headers, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}

    def route_lfs_put(self, user: str | None, oid: str) -> tuple:
        # Presigned-URL semantics (like S3): no auth header, the grant in the query string authorises the PUT.
        grant = self.query.get("grant", [""])[0]
        if self.hub._upload_grants.get(grant) != oid:
            raise HubError(403, "Invalid or expired upload grant")
        if hashlib.sha256(self.body).hexdigest() != oid:
            raise HubError(400, "Uploaded content does not match the announced sha256")
        self.hub.lfs_store[oid] = self.body
        del self.hub._upload_grants[grant]
        return 200, {"ETag": f'"{hashlib.md5(self.body).hexdigest()}"'}, b""

    def route_lfs_verify(self, user: str | None, repo: str, prefix: str | None = None) -> tuple:
        data = self._json()
        stored = self.hub.lfs_store.get(data.get("oid", ""))
        if stored is None or len(stored) != int(data.get("size", -1)):
            raise HubError(404, "LFS object not found or size mismatch")
        return 200, {}, {"success": True}

    def route_commit(self, user: str | None, type: str, repo: str, rev: str) -> tuple:  # noqa: A002
        hub_repo = self.hub._repo_for_write(type, repo, user)
        head = self.hub._commit_for(hub_repo, rev)
        if rev not in hub_repo.branches:
            raise HubError(400, f"Can only commit to a branch, got {rev}")
        lines = [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "The first NDJSON line must be the commit header")
        header = lines[0]["value"]
        parent = header.get("parentCommit")
        if parent is not None and parent != head.oid:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            path = value["path"]
            if key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise HubError(400, f"Unsupported encoding {value.get('encoding')}")
                content = base64.b64decode(value["content"])
                files[path] = StoredFile(len(content), hashlib.sha256(content).hexdigest(), content)
            elif key == "lfsFile":
                oid = value["oid"]
                if oid not in self.hub.lfs_store:
                    raise HubError(422, f"LFS object {oid} for {path} was never uploaded")
                files[path] = StoredFile(len(self.hub.lfs_store[oid]), oid)
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            elif key == "deletedFolder":
                folder = path.rstrip("/") + "/"
                files = {p: f for p, f in files.items() if not p.startswith(folder)}
            else:
                raise HubError(400, f"Unknown commit operation {key!r}")
        commit = Commit(secrets.token_hex(20), head.oid, header.get("summary", ""), _now(), files)
        hub_repo.commits[commit.oid] = commit
        hub_repo.branches[rev] = commit.oid
        url = self.hub.url + ("" if type == "model" else f"/{type}s") + f"/{repo}/commit/{commit.oid}"
        return 200, {}, {"success": True, "commitOid": commit.oid, "commitUrl": url, "hookOutput": ""}

    # ------------------------------------------------------------------ download

    def route_resolve(
        self, user: str | None, repo: str, rev: str, path: str, prefix: str | None = None
    ) -> tuple:
        hub_repo = self.hub._repo_for_read(self._type(prefix=prefix), repo, user)
        commit = self.hub._commit_for(hub_repo, rev)
        stored = commit.files.get(path)
        if stored is None:
            # The commit header lets huggingface_hub cache the absence of the file (`.no_exist`).
            raise HubError(404, "Entry not found", "EntryNotFound", headers={"X-Repo-Commit": commit.oid})
        content = self.hub._content(stored)
        headers = {
            "X-Repo-Commit": commit.oid,
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if stored.is_lfs:
            # LFS files: the etag is the sha256 of the content, announced in X-Linked-* like the Hub's redirects.
            headers.update({"ETag": f'"{stored.sha256}"', "X-Linked-Etag": f'"{stored.sha256}"'})
            headers["X-Linked-Size"] = str(stored.size)
        else:
            headers["ETag"] = f'"{stored.git_oid}"'
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match and self.command == "GET":
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(content) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
            return 206, headers, content[start : end + 1]
        if self.command == "HEAD":
            headers["Content-Length"] = str(len(content))
            return 200, headers, b""
        return 200, headers, content


if __name__ == "__main__":  # manual use: python modeling_tests/hub_server.py -> serve until Ctrl-C
    server = HubServer(tokens={"hf_local_token": "local-user"})
    print(f"Hub-compatible test server on {server.start()} (token: hf_local_token, user: local-user)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
