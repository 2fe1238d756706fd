"""The Pro Santé Connect mock's control plane (`banc.control.ControlPlane`): relying parties
(the DUI's client), who logs in (automatic mode), token revocation — from a scenario, a
notebook or another process (`/_banc/…`, admin token)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from banc.control import Action, ControlError
from banc.dui import DuiProfile
from simulators.psc_mock.app import Provider
from simulators.psc_mock.models import Client

SERVICE = "psc"


def _client_to_dict(client: Client) -> dict:
    """A client as the state shows it: never its secret, only whether it has one."""
    return {"client_id": client.client_id, "confidentiel": client.secret is not None,
            "redirections": list(client.redirect_uris),
            "redirections_deconnexion": list(client.post_logout_redirect_uris)}


@dataclass
class PscControl:
    provider: Provider
    service: str = SERVICE

    def state(self) -> dict:
        return {
            "clients": [_client_to_dict(c) for c in self.provider.store.clients.values()],
            "connexion_automatique": self.provider.automatic_user,
        }

    def reset(self) -> None:
        """No session, code or token; bench clients only; the login page again."""
        self.provider.store.clear()
        self.provider.automatic_user = None
        with self.provider._lock:
            self.provider.pending.clear()

    def seed(self, **params: Any) -> dict:
        """PSC has no data of its own to seed (the professionals come from the directory)."""
        if params:
            raise ControlError(f"paramètre(s) inconnu(s) pour semer : {', '.join(sorted(params))} "
                               "(PSC n'a pas de données à semer : les professionnels viennent de "
                               "l'annuaire du banc)", 422)
        return {"clients": len(self.provider.store.clients)}

    def register_dui(self, profile: DuiProfile) -> dict:
        """The DUI's OIDC client: id, secret (none: public client, PKCE mandatory), redirect URIs."""
        if not profile.psc_client_id:
            return {"client": None, "remarque": "profil sans client PSC : rien à enregistrer"}
        return self.register_client(profile.psc_client_id, profile.psc_secret or None,
                                    list(profile.psc_redirect_uris))

    def actions(self) -> dict[str, Action]:
        return {
            "connecter": Action(
                "connexion automatique (sans page) du professionnel donné (professionnel : RPPS "
                "ou identifiant national) à la prochaine demande d'autorisation",
                self.log_in),
            "page_de_connexion": Action("revient à la page de connexion (mode interactif)",
                                        self.interactive),
            "revoquer": Action(
                "révoque les jetons en cours d'un professionnel (professionnel), ou de tous",
                self.revoke),
            "enregistrer_client": Action(
                "enregistre un client OIDC (client_id, secret — absent : client public —, "
                "redirections)", self.register_client),
        }

    # -- actions ----------------------------------------------------------------------------
    def log_in(self, professionnel: str) -> dict:
        prof = self.provider.professional(str(professionnel))
        if prof is None:
            raise ControlError(f"professionnel {professionnel!r} absent de l'annuaire du banc", 404)
        self.provider.automatic_user = prof.national_id
        return {"connexion_automatique": prof.national_id, "nom": prof.display_name}

    def interactive(self) -> dict:
        self.provider.automatic_user = None
        return {"connexion_automatique": None}

    def revoke(self, professionnel: str | None = None) -> dict:
        subject = None
        if professionnel is not None:
            prof = self.provider.professional(str(professionnel))
            if prof is None:
                raise ControlError(f"professionnel {professionnel!r} absent de l'annuaire du banc",
                                   404)
            subject = prof.national_id
        return {"revoques": self.provider.store.revoke_subject(subject)}

    def register_client(self, client_id: str, secret: str | None = None,
                        redirections: list[str] | tuple[str, ...] = ()) -> dict:
        if not isinstance(client_id, str) or not client_id.strip():
            raise ControlError("client_id : identifiant de client (texte non vide) attendu", 422)
        if secret is not None and not isinstance(secret, str):
            raise ControlError("secret : texte attendu (absent pour un client public)", 422)
        if isinstance(redirections, str) or not all(isinstance(u, str) for u in redirections):
            raise ControlError("redirections : liste d'URI attendue", 422)
        client = Client(client_id, secret or None, tuple(redirections))
        self.provider.store.clients[client_id] = client
        return {"client": _client_to_dict(client)}
