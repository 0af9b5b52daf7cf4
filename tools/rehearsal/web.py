"""A local stand-in for the plain web downloads (not the Hub): an HTTPS proxy on loopback that
answers for the real URLs from local files.

The notebooks download two things with ``urllib`` outside the Hub: gensim's ``api.load`` fetches
its ``list.json`` and the GloVe release from GitHub, and chapter 2 reads the playlists from their
``https://`` address. ``urllib`` has no base-URL setting, but it has the standard proxy one
(``https_proxy``), and Python's TLS verification has ``SSL_CERT_FILE``. So the rehearsal sets both:
``https_proxy`` points at this proxy, which accepts ``CONNECT host:443``, speaks TLS with a
certificate for that host issued by a throw-away certificate authority (``trustme``), and serves
the request from ``mirror`` -- a map of full URLs to local files. The notebooks' lines are the
readers' lines; only the network underneath is local.

A URL that is not in the map answers 404 and is recorded as outside the contract.
"""

from __future__ import annotations

import ssl
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from .hub import LoopbackServer, Request


class WebMirror(LoopbackServer):
    """``with WebMirror(files, ca_folder) as web:`` proxies ``https://`` requests to ``files`` (URL -> path)."""

    def __init__(self, files: dict[str, Path], ca_folder: Path, known: set[str] = frozenset(),
                 host: str = "127.0.0.1"):
        """``files``: URL -> the local file served for it; ``known``: further URLs the contract lists
        that have no content here (answered 404, as the real server answers them, without a violation)."""
        import trustme

        self.files = dict(files)
        self.known = set(known)
        hosts = sorted({urlsplit(url).hostname for url in (*self.files, *self.known)})
        authority = trustme.CA()
        self.ca_file = Path(ca_folder) / "rehearsal-ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(*hosts).configure_cert(self.tls)
        super().__init__(MirrorHandler, host)

    @property
    def proxy(self) -> str:
        return self.url


class MirrorHandler(BaseHTTPRequestHandler):
    service: WebMirror
    tunnel_host = ""

    def log_message(self, format, *args) -> None:
        pass

    def do_CONNECT(self) -> None:
        host, _, port = self.path.partition(":")
        self.send_response(HTTPStatus.OK, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = self.service.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.service.record(Request("CONNECT", self.path, 0, f"outside the contract: TLS failed ({error})"))
            self.close_connection = True
            return
        # Serve the requests inside the tunnel with this same handler, on the TLS socket.
        self.connection = tls
        self.rfile = tls.makefile("rb", self.rbufsize)
        self.wfile = tls.makefile("wb", 0)
        self.tunnel_host = host if port in ("", "443") else f"{host}:{port}"
        self.close_connection = False
        while not self.close_connection:
            self.handle_one_request()

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        url = self.path if "://" in self.path else f"https://{self.tunnel_host}{self.path}"
        path = self.service.files.get(url)
        if path is None:
            note = (f"absent: {url}" if url in self.service.known
                    else f"outside the contract: {url} is not mirrored")
            self.service.record(Request(self.command, url, HTTPStatus.NOT_FOUND, note))
            body = note.encode()
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        data = path.read_bytes()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.service.record(Request(self.command, url, HTTPStatus.OK))
        if send_body:
            self.wfile.write(data)
