"""The bridge's own small HTTP server, on a loopback port only.

Routes: ``/metrics`` (Prometheus text), ``/healthz`` (the process is alive),
``/readyz`` (the registered readiness checks; 503 when one fails), ``/api/status``
(JSON from the :class:`~bridge.observe.status.StatusSource`) and ``/`` (the status page,
static HTML and JS polling ``/api/status``; it loads nothing from elsewhere).

The server is the standard library's threading HTTP server in a daemon thread: the
endpoints are few and small, and a dependency would buy nothing here.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Final

from bridge.errors import ConfigError
from bridge.observe.health import Readiness, report
from bridge.observe.logging import Redactor
from bridge.observe.metrics import CONTENT_TYPE, Metrics
from bridge.observe.status import MemoryStatusSource, StatusSource

logger = logging.getLogger(__name__)

DEFAULT_PORT: Final = 9187  # bridge.pipeline.config.ObserveConfig.http_port
JSON_TYPE: Final = "application/json; charset=utf-8"
HTML_TYPE: Final = "text/html; charset=utf-8"
INITIAL_STATUS_MARK: Final = "/*INITIAL_STATUS*/null"


def status_page(initial_json: str = "null") -> str:
    """The status page, with the JSON status embedded so it draws before polling."""
    page = resources.files("bridge.observe").joinpath("status.html")
    html = page.read_text(encoding="utf-8")
    # "</script>" inside the JSON would end the script element early.
    return html.replace(INITIAL_STATUS_MARK, initial_json.replace("</", "<\\/"))


def _require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"observe.host {host!r} is not a loopback address; the status server "
            "only listens on 127.0.0.1 or ::1 and was not started"
        )


class ObserveServer:
    """Serves metrics, health, status JSON and the status page until stopped."""

    def __init__(
        self,
        metrics: Metrics,
        status_source: StatusSource | None = None,
        readiness: Readiness | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        redactor: Redactor | None = None,
    ) -> None:
        _require_loopback(host)
        self.metrics = metrics
        self.status_source = status_source or MemoryStatusSource()
        self.readiness = readiness or Readiness()
        self.redact = redactor or Redactor()
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port asked for, or once started the one bound (after asking for 0)."""
        return self._address[1]

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def start(self) -> None:
        """Bind and serve in a daemon thread."""
        try:
            server = ThreadingHTTPServer(self._address, _handler_for(self))
        except OSError as exc:
            raise ConfigError(self._cannot_listen(exc)) from exc

        server.daemon_threads = True
        self._server = server
        self._address = (self._address[0], int(server.server_address[1]))
        self._thread = threading.Thread(
            target=server.serve_forever, name="observe-http", daemon=True
        )
        self._thread.start()
        logger.info("status server listening on %s", self.url)

    def _cannot_listen(self, exc: OSError) -> str:
        host, port = self._address
        said = f"the status server cannot listen on {host}:{port} ({exc.strerror})"
        if exc.errno != errno.EADDRINUSE:
            return f"{said}; choose another observe.http_port"
        # Most often the same configuration started twice: a new port would only
        # lead to the connector claim refusing the second bridge.
        return (
            f"{said}: another creditbridge may already be running with this "
            "configuration (`creditbridge status` shows it); stop it first, or if "
            "another program holds the port, choose another observe.http_port"
        )

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> ObserveServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def status_json(self) -> dict[str, Any]:
        return self.status_source.status().to_json_dict()


def _handler_for(observe: ObserveServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_ObserveHandler):
        server_side = observe

    return Handler


class _ObserveHandler(BaseHTTPRequestHandler):
    server_side: ObserveServer
    server_version = "creditbridge"

    def do_GET(self) -> None:
        route = self.path.split("?", 1)[0]
        routes = {
            "/metrics": self._metrics,
            "/healthz": self._healthz,
            "/readyz": self._readyz,
            "/api/status": self._status,
            "/": self._page,
        }
        handler = routes.get(route)
        if handler is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {route}"})
            return
        handler()

    def _metrics(self) -> None:
        self._send(HTTPStatus.OK, CONTENT_TYPE, self.server_side.metrics.exposition())

    def _healthz(self) -> None:
        self._json(HTTPStatus.OK, {"alive": True})

    def _readyz(self) -> None:
        body = report(self.server_side.readiness.run())
        ready = body["ready"]
        self._json(HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE, body)

    def _status(self) -> None:
        self._json(HTTPStatus.OK, self.server_side.status_json())

    def _page(self) -> None:
        text = json.dumps(self.server_side.status_json(), ensure_ascii=False)
        html = status_page(self.server_side.redact(text))
        self._send(HTTPStatus.OK, HTML_TYPE, html.encode("utf-8"))

    def _json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        text = json.dumps(body, ensure_ascii=False, sort_keys=True)
        data = self.server_side.redact(text).encode("utf-8")
        self._send(status, JSON_TYPE, data)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)
