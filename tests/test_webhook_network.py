"""Where webhooks may go (latchkey/webhooks/network.py): no private or reserved address unless
allowed, the address checked is the one connected to, and over TLS the URL's host name is still
the one the certificate is checked against."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from latchkey import event_kinds
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import webhooks
from latchkey.services.webhook_worker import USER_AGENT, Drained, WebhookWorker
from latchkey.webhooks import network
from latchkey.webhooks.models import PENDING
from tests.webhook_parties import Receiver, free_port, record


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(port=free_port())
    yield made
    made.stop()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (CGNAT)
        "0.0.0.0",  # noqa: S104 - judged here, not bound to
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "fc00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::",
        "ff02::1",
    ],
)
def test_private_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not network.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_global_addresses_are_public(address: str) -> None:
    assert network.is_public(ipaddress.ip_address(address))


def test_the_url_is_pinned_to_the_checked_address() -> None:
    target, headers, tls = network.pinned("https://localhost:8443/hooks?x=1", allow_private=True)
    assert target in ("https://127.0.0.1:8443/hooks?x=1", "https://[::1]:8443/hooks?x=1")
    assert headers == {"Host": "localhost:8443"}
    assert tls == {"sni_hostname": "localhost"}
    target, headers, tls = network.pinned("http://[::1]/", allow_private=True)
    assert (target, headers, tls) == ("http://[::1]/", {"Host": "[::1]"}, {})
    for url in ("http://localhost:9/", "http://127.0.0.1:9/", "https://[::ffff:10.0.0.1]/"):
        with pytest.raises(network.Refused, match="private or reserved address"):
            network.pinned(url, allow_private=False)
    with pytest.raises(network.Refused, match="does not resolve"):
        network.pinned("https://nowhere.invalid/", allow_private=True)


def test_by_default_a_webhook_to_this_machine_is_refused_and_retried(
    rt: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.start()
    webhooks.create_endpoint(rt, tenant.id, url=receiver.url)
    record(rt, tenant.id)
    assert WebhookWorker(rt, concurrency=1).drain_once() == Drained(failed=1)
    assert receiver.requests == []
    (delivery,) = webhooks.list_deliveries(rt, tenant.id)
    assert delivery.state == PENDING
    assert "127.0.0.1 is at 127.0.0.1, a private or reserved address" in (delivery.last_error or "")
    assert "LATCHKEY_WEBHOOK_PRIVATE_NETWORKS=allow" in (delivery.last_error or "")


# --- TLS to the pinned address ------------------------------------------------------------------


Issued = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def _certificate(name: str, issuer: Issued | None) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()), False
            )
        )
    certificate = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    return certificate, key


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, Path]:
    """A test CA, and server certificates it signed for `localhost` and for another name."""
    ca = _certificate("Latchkey test CA", None)
    files = {"ca": tmp_path / "ca.pem"}
    files["ca"].write_bytes(ca[0].public_bytes(serialization.Encoding.PEM))
    for label, name in (("localhost", "localhost"), ("other", "other.example")):
        certificate, key = _certificate(name, ca)
        path = tmp_path / f"{label}.pem"
        path.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        files[label] = path
    return files


def _tls_receiver(certificate: Path, names: list[str | None]) -> Receiver:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate)

    def sni(_socket: ssl.SSLObject, name: str, _context: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = sni
    receiver = Receiver(port=free_port(), tls=context)
    receiver.start()
    return receiver


def test_over_tls_the_urls_host_is_verified_on_the_pinned_connection(
    rt: Runtime, tenant: Tenant, tls_files: dict[str, Path]
) -> None:
    names: list[str | None] = []
    good = _tls_receiver(tls_files["localhost"], names)
    wrong = _tls_receiver(tls_files["other"], names)
    client = httpx.Client(
        verify=ssl.create_default_context(cafile=str(tls_files["ca"])),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT},
    )
    try:
        worker = WebhookWorker(rt, client=client, concurrency=1, allow_private=True)
        webhooks.create_endpoint(rt, tenant.id, url=f"https://localhost:{good.port}/in")
        record(rt, tenant.id, event_kinds.PASSKEY_REGISTRATION)
        assert worker.drain_once() == Drained(delivered=1)
        (got,) = good.requests
        assert got.headers["Host"] == f"localhost:{good.port}"
        assert names == ["localhost"]  # the SNI, though the connection went to the address

        for endpoint in webhooks.list_endpoints(rt, tenant.id):
            webhooks.delete_endpoint(rt, tenant.id, endpoint.id)
        webhooks.create_endpoint(rt, tenant.id, url=f"https://localhost:{wrong.port}/in")
        record(rt, tenant.id, event_kinds.PASSKEY_REGISTRATION)
        assert worker.drain_once() == Drained(failed=1)
        assert wrong.requests == []
        (refused,) = webhooks.list_deliveries(rt, tenant.id, state=PENDING)
        assert "CERTIFICATE_VERIFY_FAILED" in (refused.last_error or "")
    finally:
        client.close()
        good.stop()
        wrong.stop()
