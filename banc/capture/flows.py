"""Reading a capture: mitmproxy flow files → `CapturedExchange`s, the recorder's neutral record.

Only what the offline checks need is kept: the request as the DUI sent it (method, path,
headers, body), the client certificate it presented, when it was sent, and the upstream's real
answer. A file that is not a mitmproxy capture is refused with a French message naming it,
never a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class CaptureError(Exception):
    """The capture cannot be read (missing, not a mitmproxy flow file, damaged)."""


@dataclass(frozen=True)
class CapturedExchange:
    """One HTTP request of the DUI and what the upstream answered (status 0: no answer)."""

    method: str
    path: str
    """Path and query as sent, e.g. `/si-dmp-server/v2/services/repository`."""
    url: str
    """Full URL the request went to (the upstream's, in reverse mode)."""
    headers: tuple[tuple[str, str], ...]
    body: bytes
    started_at: float
    status: int = 0
    response_headers: tuple[tuple[str, str], ...] = ()
    response: bytes = b""
    duration_ms: float = 0.0
    peer: str = ""
    client_certificate_der: bytes | None = None
    error: str = ""
    """Why the upstream gave no answer (connection refused, TLS failure…)."""
    source: str = ""
    extra: dict = field(default_factory=dict)

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), "")


def _from_flow(flow, source: str) -> CapturedExchange:
    request, response = flow.request, flow.response
    certificates = flow.client_conn.certificate_list
    peer = flow.client_conn.peername
    ended = (response.timestamp_end if response is not None else None) or request.timestamp_end
    return CapturedExchange(
        method=request.method, path=request.path, url=request.pretty_url,
        headers=tuple(request.headers.items(multi=True)), body=request.raw_content or b"",
        started_at=request.timestamp_start,
        status=response.status_code if response is not None else 0,
        response_headers=tuple(response.headers.items(multi=True)) if response is not None else (),
        response=(response.raw_content or b"") if response is not None else b"",
        duration_ms=((ended or request.timestamp_start) - request.timestamp_start) * 1000,
        peer=f"{peer[0]}:{peer[1]}" if peer else "",
        client_certificate_der=certificates[0].to_cryptography().public_bytes(_der()) if certificates else None,
        error=flow.error.msg if flow.error else "",
        source=source,
    )


def _der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def read_capture(path: Path | str) -> list[CapturedExchange]:
    """The HTTP exchanges of one capture file, in the order they were sent."""
    from mitmproxy import http, io
    from mitmproxy.exceptions import FlowReadException

    file = Path(path)
    if not file.is_file():
        raise CaptureError(f"capture introuvable : {file}")
    found: list[CapturedExchange] = []
    try:
        with file.open("rb") as stream:
            for flow in io.FlowReader(stream).stream():
                if isinstance(flow, http.HTTPFlow):
                    found.append(_from_flow(flow, file.name))
    except (FlowReadException, ValueError, KeyError, TypeError) as exc:
        raise CaptureError(f"{file} n'est pas une capture mitmproxy lisible ({exc})") from None
    return sorted(found, key=lambda e: e.started_at)


def read_captures(paths: list[Path] | list[str]) -> list[CapturedExchange]:
    """Several captures (one per recorder, e.g. INSi and DMP) merged in sending order."""
    merged = [e for path in paths for e in read_capture(path)]
    return sorted(merged, key=lambda e: e.started_at)
