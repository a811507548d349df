"""HTTP/1.1 over a bare socket, for requests no HTTP client library would send (bad framing, unknown
methods, control characters in the target) and for timing each answer. Holds no tests."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class RawAnswer:
    """What came back on one connection: the raw bytes until the server closed it (or the timeout)."""

    data: bytes
    seconds: float
    closed: bool

    @property
    def status(self) -> Optional[int]:
        """The status code, None when nothing (or no status line) came back."""
        line = self.data.split(b"\r\n", 1)[0].split(b" ")
        if len(line) < 2 or not line[0].startswith(b"HTTP/") or not line[1].isdigit():
            return None
        return int(line[1])

    @property
    def head(self) -> bytes:
        return self.data.split(b"\r\n\r\n", 1)[0]

    @property
    def body(self) -> bytes:
        parts = self.data.split(b"\r\n\r\n", 1)
        return parts[1] if len(parts) == 2 else b""

    def header(self, name: str) -> Optional[str]:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None


def exchange(port: int, request: bytes, timeout: float = 2.0, host: str = "127.0.0.1") -> RawAnswer:
    """Send ``request`` on a new connection, read until the server closes it or ``timeout`` seconds
    passed since sending (``closed`` says which)."""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.sendall(request)
        except OSError:
            pass  # the server may answer and close before it read everything (431, 400)
        chunks = []
        closed = False
        deadline = started + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            chunks.append(chunk)
    return RawAnswer(b"".join(chunks), time.monotonic() - started, closed)


def request_bytes(method: str, target: str, body: Optional[bytes] = None,
                  headers: Optional[list[tuple[str, str]]] = None, content_length: bool = True) -> bytes:
    """A request with ``Host`` and ``Connection: close``, ``Content-Length`` of ``body`` unless
    ``content_length`` is false or ``headers`` already name one."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    names = {name.lower() for name, _ in headers or []}
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body is not None and content_length and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + (body or b"")
