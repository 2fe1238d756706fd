"""Pro Santé Connect mock: an OpenID Connect provider (Keycloak realm `esante-wallet` layout)
with PKCE, a French login page or an automatic mode, RS256 tokens verifiable through its JWKS
(the MSSanté mock accepts them for XOAUTH2), userinfo in JSON or signed JWT, introspection and
logout. Professionals come from `banc.directory`. See docs/annuaire-psc-mocks.md.
"""

from __future__ import annotations

from banc.control import CONTROL_PREFIX, with_control
from banc.directory import Directory, Professional, default_directory
from banc.mocks import MockContext
from banc.recording import JournalMiddleware
from simulators.psc_mock import wire
from simulators.psc_mock.app import Provider, build_app
from simulators.psc_mock.control import PscControl
from simulators.psc_mock.models import Client, PscStore

NAME = "psc"


class RunningPsc:
    """A started PSC mock and the scenario API."""

    name = NAME

    def __init__(self, context: MockContext, directory: Directory | None = None) -> None:
        self.directory = directory or default_directory(context.seed)
        self.store = PscStore(context.data_dir / "psc" / "psc.sqlite")
        self.provider = Provider(self.directory, self.store)
        self.control = PscControl(self.provider)
        app = JournalMiddleware(with_control(build_app(self.provider), self.control,
                                             context.admin_token), context.journal, NAME)
        self.server = context.serve(app, name=NAME, port_name=NAME, client_cert="optional")
        self.provider.issuer = self.server.url + wire.REALM_PATH
        urls = wire.endpoints(self.provider.issuer)
        self.endpoints = {
            "psc.issuer": self.provider.issuer,
            "psc.discovery": self.provider.issuer + "/.well-known/wallet-openid-configuration",
            "psc.jwks_uri": urls["jwks_uri"],
            "psc.authorization": urls["authorization_endpoint"],
            "psc.token": urls["token_endpoint"],
            "psc.userinfo": urls["userinfo_endpoint"],
            "psc.controle": self.server.url + CONTROL_PREFIX,
        }

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    # -- scenario API -----------------------------------------------------------------------
    def automatic(self, national_id: str | None = None) -> None:
        """Log in without the page: `login_hint` if the client sends one, else this person
        (default: the usager's GP). `interactive()` brings the login page back."""
        self.provider.automatic_user = national_id or self.directory.gp.national_id

    def interactive(self) -> None:
        self.provider.automatic_user = None

    def register_client(self, client_id: str, secret: str | None,
                        redirect_uris: tuple[str, ...] = ()) -> Client:
        self.control.register_client(client_id, secret, redirect_uris)
        return self.store.clients[client_id]

    def tokens_for(self, who: str | Professional, client_id: str = "banc-dui", *,
                   lifetime: int | None = None, now: float | None = None) -> dict:
        """Tokens for a professional without the browser flow (e.g. to open an MSSanté
        mailbox in a scenario); `lifetime` < 0 gives an already expired access token."""
        prof = who if isinstance(who, Professional) else self.directory.professional(who)
        if prof is None:
            raise KeyError(f"professionnel {who!r} absent de l'annuaire du banc")
        return self.provider.issue(prof, client_id, lifetime=lifetime, now=now)

    def jwks(self) -> dict:
        return self.store.jwks()

    def stop(self) -> None:
        self.server.stop()


def launch(context: MockContext) -> RunningPsc:
    return RunningPsc(context)


__all__ = ["NAME", "RunningPsc", "launch"]
