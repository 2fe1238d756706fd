"""Test PKI: one CA and every certificate the mocks and the DUI under test need.

Real X.509 through `cryptography` (no hand-built DER). Files are written with explicit names
(`ca.pem`, `server.pem`/`server.key`, `<name>.pem`/`<name>.key`, `<name>.p12`) so that a DUI
vendor can install them in their own software: trust `ca.pem`, present `<client>.p12`.
Nothing here is secret: these keys are for a test bench on loopback only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from banc.paths import cache_dir

P12_PASSWORD = b"banc-segur"
"""Password of the PKCS#12 bundles (Windows/Java DUIs usually import .p12 files)."""

ORGANISATION = "Banc Segur (test)"


@dataclass(frozen=True)
class ClientProfile:
    """A certificate the bench issues: file stem, subject CN and what it is for."""

    name: str
    common_name: str
    purpose: str
    usage: str = "client"  # "client" (TLS client auth) or "signing" (XML signatures)


CLIENT_PROFILES: tuple[ClientProfile, ...] = (
    ClientProfile("insi-auto", "INSI-AUTO", "certificat d'organisation pour INSi (mode automatique)"),
    ClientProfile("insi-manu", "INSI-MANU", "certificat d'organisation pour INSi (mode manuel)"),
    ClientProfile("dui", "DUI-SSIAD-TEST", "certificat d'authentification du DUI (DMP, MSSanté)"),
    ClientProfile("unknown-org", "ORGANISATION-INCONNUE", "certificat d'un autre usage (tests négatifs)"),
    ClientProfile("mss-app", "BAL-APPLICATIVE-SSIAD", "boîte aux lettres applicative MSSanté"),
    ClientProfile("vihf-signing", "SIGNATURE-VIHF-DUI", "signature des jetons VIHF", "signing"),
    ClientProfile("bench-signing", "SIGNATURE-BANC", "signature des documents et jetons du banc", "signing"),
)


DEFAULT_SERVER_NAMES = ("localhost", "*.localhost", "127.0.0.1", "::1")
"""What the server certificate always covers; `banc up --nom` adds the names a DUI uses."""


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass(frozen=True)
class TestPki:
    """Paths of a generated PKI. Use `TestPki.ensure(directory)` to get one."""

    directory: Path

    __test__ = False  # not a pytest class

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def p12(self, name: str) -> Path:
        return self.directory / f"{name}.p12"

    # -- creation ---------------------------------------------------------------------------
    @classmethod
    def ensure(cls, directory: Path | str | None = None, server_names: tuple[str, ...] = ()) -> TestPki:
        """Load the PKI in `directory` (default: user cache), generating what is missing.

        `server_names` (DNS names or IP addresses a DUI on another machine uses to reach the
        bench) are added to the server certificate's SAN beside localhost; the server
        certificate is re-issued when they are not all in it already."""
        pki = cls(Path(directory) if directory else cache_dir() / "pki")
        pki.directory.mkdir(parents=True, exist_ok=True)
        if not (pki.ca_cert.exists() and pki.ca_key.exists()):
            pki._make_ca()
        wanted = tuple(dict.fromkeys((*DEFAULT_SERVER_NAMES, *server_names)))
        if not (pki.server_cert.exists() and pki.server_key.exists()) or not set(wanted) <= set(pki.server_names()):
            pki._issue("server", "localhost", server=True, names=wanted)
        for profile in CLIENT_PROFILES:
            if not (pki.cert(profile.name).exists() and pki.key(profile.name).exists()):
                pki.issue(profile.name, profile.common_name, usage=profile.usage)
        readme = pki.directory / "LISEZMOI.txt"
        if not readme.exists():
            readme.write_text(_readme(), encoding="utf-8")
        return pki

    def _make_ca(self) -> None:
        key = _key()
        now = dt.datetime.now(dt.UTC)
        name = _name("Banc Segur - AC de test")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        _write_key(self.ca_key, key)
        self.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _load_ca(self) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        cert = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(self.ca_key.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cert, key

    def issue(
        self, name: str, common_name: str, *, usage: str = "client", days: int = 825
    ) -> Path:
        """Issue (or re-issue) a client or signing certificate; returns the PEM path."""
        return self._issue(name, common_name, usage=usage, days=days)

    def server_names(self) -> list[str]:
        """DNS names and IP addresses the server certificate covers."""
        if not self.server_cert.exists():
            return []
        cert = x509.load_pem_x509_certificate(self.server_cert.read_bytes())
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return []
        return [*san.get_values_for_type(x509.DNSName),
                *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))]

    def _issue(
        self, name: str, common_name: str, *, server: bool = False, usage: str = "client",
        days: int = 825, names: tuple[str, ...] = (),
    ) -> Path:
        ca_cert, ca_key = self._load_ca()
        key = _key()
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in names or DEFAULT_SERVER_NAMES]),
                critical=False,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        elif usage == "client":
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False
            )
        else:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=True, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        _write_key(self.key(name), key)
        self.cert(name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.p12(name).write_bytes(
            pkcs12.serialize_key_and_certificates(
                name.encode(), key, cert, [ca_cert],
                serialization.BestAvailableEncryption(P12_PASSWORD),
            )
        )
        return self.cert(name)

    # -- TLS contexts -----------------------------------------------------------------------
    def server_context(self, client_cert: str = "required") -> ssl.SSLContext:
        """Server TLS ≥ 1.2; `client_cert` is 'required', 'optional' or 'none'."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert, self.server_key)
        context.load_verify_locations(self.ca_cert)
        context.verify_mode = {
            "required": ssl.CERT_REQUIRED,
            "optional": ssl.CERT_OPTIONAL,
            "none": ssl.CERT_NONE,
        }[client_cert]
        return context

    def client_context(self, client: str | None = None) -> ssl.SSLContext:
        """Client TLS trusting the bench CA, presenting `<client>.pem` when given."""
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if client:
            context.load_cert_chain(self.cert(client), self.key(client))
        return context


@lru_cache(maxsize=256)
def certificate_subject(der: bytes | None) -> str:
    """RFC 4514 subject of a DER certificate ('' when none) — what the journal records.
    Cached: a DUI presents the same certificate on every request of a run."""
    if not der:
        return ""
    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


@lru_cache(maxsize=256)
def common_name(der: bytes | None) -> str | None:
    if not der:
        return None
    names = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def _readme() -> str:
    lines = [
        "PKI de test du Banc Ségur — à n'utiliser QUE sur le banc (clés non protégées).",
        "",
        "ca.pem            autorité de certification à déclarer comme « de confiance » dans le DUI",
        "server.pem/.key   certificat des services simulés (localhost, 127.0.0.1)",
        f"*.p12             certificat + clé au format PKCS#12, mot de passe : {P12_PASSWORD.decode()}",
        "",
    ]
    lines += [f"{p.name + '.pem':<18}CN={p.common_name} — {p.purpose}" for p in CLIENT_PROFILES]
    return "\n".join(lines) + "\n"
