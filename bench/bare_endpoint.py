"""A bare ASGI endpoint that answers every POST with a fixed SOAP body.

The yardstick for the mocks' benchmarks: same server stack (`banc.server.ServedApp`, TLS with
the test PKI, the request body read in full), none of the mock's work. `bench/insi.py` and the
DMP benchmark put their figures side by side with it.
"""

from __future__ import annotations

from typing import Any

from banc.pki import TestPki
from banc.server import ServedApp

FIXED_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
    b'<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>00</CodeCR>'
    b"<LibelleCR>OK</LibelleCR></CR><INDIVIDU><INSACTIF><IdIndividu>"
    b"<NumIdentifiant>2751263220749</NumIdentifiant><Cle>74</Cle></IdIndividu>"
    b"<OID>1.2.250.1.213.1.4.8</OID></INSACTIF><TIQ><NomNaissance>ADRUN</NomNaissance>"
    b"<Prenom>ZOE</Prenom><ListePrenom>ZOE</ListePrenom><Sexe>F</Sexe>"
    b"<DateNaissance>1975-12-31</DateNaissance><LieuNaissance>63220</LieuNaissance></TIQ>"
    b"</INDIVIDU></RESULTAT></soap:Body></soap:Envelope>"
)


def bare_app(body: bytes = FIXED_BODY, content_type: bytes = b"application/soap+xml; charset=utf-8"):
    """An ASGI app that drains the request body and returns `body`."""

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False) and message["type"] == "http.request"
        await send({
            "type": "http.response.start", "status": 200,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})

    return app


def serve_bare(pki: TestPki | None, *, body: bytes = FIXED_BODY, port: int = 0) -> ServedApp:
    """Start the bare endpoint (TLS with optional client certificate, like the mocks)."""
    return ServedApp(bare_app(body), pki=pki, client_cert="optional", port=port, name="bare").start()
