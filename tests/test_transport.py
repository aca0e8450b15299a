"""Transport and secrets: `matchgate serve` over TLS with the certificate and key named in the
settings, checked by a client that verifies the certificate; no secret committed to the repository.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from served import matchgate_env, served

REPO = Path(__file__).resolve().parents[1]


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_pki(folder: Path) -> tuple[Path, Path, Path]:
    """A CA made now, and a server certificate for 127.0.0.1 and localhost signed by it:
    (ca.pem, server.pem, server.key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("matchgate test CA"))
          .issuer_name(_name("matchgate test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


def test_serve_speaks_tls_with_the_configured_certificate(tmp_path: Path) -> None:
    ca, cert, key = make_pki(tmp_path)
    env = matchgate_env(home=str(tmp_path / "home"), tls_cert=str(cert), tls_key=str(key))
    with served(env, tmp_path / "serve.log", scheme="https") as base:
        trusted = ssl.create_default_context(cafile=str(ca))
        r = httpx.get(f"{base}/api/v1/me", verify=trusted, timeout=10)
        assert r.status_code == 401  # the connection is good; the call needs a token
        assert r.json()["code"] == "unauthenticated"
        # a client that does not trust the custodian's CA refuses the server
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{base}/api/v1/me", verify=ssl.create_default_context(), timeout=10)
        # and plain HTTP gets no API answer from the TLS port
        with pytest.raises(httpx.TransportError):
            httpx.get(base.replace("https://", "http://") + "/api/v1/me", timeout=10)


@pytest.mark.parametrize(("settings", "message"), [
    ({"tls_cert": "cert.pem"}, "TLS needs both MATCHGATE_TLS_CERT and MATCHGATE_TLS_KEY"),
    ({"tls_cert": "missing.pem", "tls_key": "missing.key"}, "MATCHGATE_TLS_CERT: no such file"),
])
def test_serve_refuses_an_incomplete_tls_setting(tmp_path: Path, settings: dict[str, str],
                                                 message: str) -> None:
    env = matchgate_env(home=str(tmp_path), **{k: str(tmp_path / v) for k, v in settings.items()})
    done = subprocess.run([sys.executable, "-m", "matchgate", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stdout + done.stderr and "Traceback" not in done.stderr


SECRET_SHAPES = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "matchgate token": re.compile(r"\bmg_[A-Za-z0-9_-]{40,}"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "password in a URL": re.compile(r"://[^/\s:@'\"]+:[^/\s@'\"{}$]+@"),
}


def test_no_secret_is_committed_to_the_repository() -> None:
    """Secrets come from the environment or from files outside the repository, never from it."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    files = [REPO / name for name in listed.stdout.decode().split("\0") if name]
    assert len(files) > 50
    found = []
    for path in files:
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        found += [f"{path.relative_to(REPO)}: {kind}" for kind, shape in SECRET_SHAPES.items()
                  if shape.search(text) and path.name != "test_transport.py"]
        if path.suffix in (".pem", ".key", ".p12", ".pfx", ".jks"):
            found.append(f"{path.relative_to(REPO)}: key or certificate file")
    assert found == []
