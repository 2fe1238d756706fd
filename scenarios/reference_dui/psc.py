"""Pro Santé Connect login of the reference DUI: the OIDC code flow with PKCE, as a browser does it."""

from __future__ import annotations

import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlparse

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from banc.sheet import PSC_CLIENT
from scenarios.reference_dui.base import DuiBase
from scenarios.reference_dui.profile import REDIRECT_URI


class PscActions(DuiBase):
    def connexion_psc(self, professionnel: str) -> dict:
        """Pro Santé Connect code flow with PKCE, the professional choosing themselves on the
        login page (what the user does in a browser)."""
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        with self._http() as client:
            page = client.get(self.sheet.url("psc.authorization"), params={
                "response_type": "code", "client_id": PSC_CLIENT["client_id"],
                "redirect_uri": REDIRECT_URI, "scope": "openid scope_all", "acr_values": "eidas1",
                "state": state, "nonce": secrets.token_urlsafe(16),
                "code_challenge_method": "S256", "code_challenge": create_s256_code_challenge(verifier),
            })
            location = page.headers.get("location", "")
            if page.status_code == 200:
                form = re.search(r'<form[^>]+action="([^"]+)"', page.text)
                request_id = re.search(r'name="request"\s+value="([^"]+)"', page.text)
                if not (form and request_id):
                    raise RuntimeError("page de connexion PSC sans formulaire")
                login = client.post(httpx.URL(str(page.url)).join(unescape(form.group(1))),
                                    data={"request": request_id.group(1), "identifiant": professionnel})
                location = login.headers.get("location", "")
            query = parse_qs(urlparse(location).query)
            if "code" not in query or query.get("state") != [state]:
                raise RuntimeError(f"pas de code d'autorisation PSC ({location or page.status_code})")
            tokens = client.post(self.sheet.url("psc.token"),
                                 auth=(PSC_CLIENT["client_id"], PSC_CLIENT["secret"]), data={
                                     "grant_type": "authorization_code", "code": query["code"][0],
                                     "redirect_uri": REDIRECT_URI, "code_verifier": verifier}).json()
            userinfo = client.get(self.sheet.url("psc.userinfo"),
                                  headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
        self.facts["access_token"] = tokens["access_token"]
        self.facts["user"] = userinfo.get("SubjectNameID", "")
        return {"utilisateur": self.facts["user"]}
