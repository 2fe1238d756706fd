"""A zeep transport for firewalled clients: well-known schema URLs are served from disk.

Official WSDLs import schemas by absolute URL (the INSi WSDL imports the W3C WS-Addressing
schema). A vendor behind a firewall resolves them locally; so do our tests, with the files of
the reference folder. Any other remote URL is refused rather than fetched, so a test can never
depend on the network by accident.
"""

from __future__ import annotations

from pathlib import Path

from zeep.transports import Transport

from banc.paths import reference_path

WS_ADDRESSING_URLS = (
    "http://www.w3.org/2006/03/addressing/ws-addr.xsd",
    "https://www.w3.org/2006/03/addressing/ws-addr.xsd",
)


def known_schema_files() -> dict[str, Path]:
    """URL → local file for the schemas official WSDLs import by URL (when available)."""
    found: dict[str, Path] = {}
    ws_addr = reference_path("w3c", "ws-addr.xsd")
    if ws_addr is not None:
        found.update(dict.fromkeys(WS_ADDRESSING_URLS, ws_addr))
    return found


class OfflineTransport(Transport):
    """zeep `Transport` whose `load` serves `local_files` and refuses other remote URLs,
    except those starting with one of `allow` (e.g. a local mock serving its WSDL).

    SOAP calls themselves (`post`) go through the normal requests session, so TLS settings
    (`session.verify`, `session.cert`) apply as usual.
    """

    def __init__(
        self, local_files: dict[str, Path] | None = None, *, allow: tuple[str, ...] = (),
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.local_files = dict(known_schema_files() if local_files is None else local_files)
        self.allow = allow

    def load(self, url: str) -> bytes:
        if url in self.local_files:
            return self.local_files[url].read_bytes()
        remote = url.startswith(("http://", "https://"))
        if remote and not any(url.startswith(prefix) for prefix in self.allow):
            raise OSError(
                f"schéma distant {url} non disponible hors ligne : ajoutez-le à local_files"
            )
        return super().load(url)
