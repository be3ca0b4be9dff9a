"""Apps (OAuth clients) with device settings, user directories and identifier rules."""

from __future__ import annotations

import hashlib
import json
from base64 import urlsafe_b64encode
from pathlib import Path

import pytest

from latchkey.cli import main
from latchkey.errors import ConfigError, InvalidRequest
from latchkey.models import Tenant
from latchkey.runtime import Runtime
from latchkey.services import app_origins, apps, directories, identifiers

FINGERPRINT = ":".join(f"{b:02X}" for b in hashlib.sha256(b"signing cert").digest())


def test_android_origin_is_derived_from_the_fingerprint() -> None:
    expected = urlsafe_b64encode(hashlib.sha256(b"signing cert").digest()).rstrip(b"=").decode()
    assert app_origins.android_origin(FINGERPRINT) == f"android:apk-key-hash:{expected}"
    assert app_origins.normalize_fingerprint(FINGERPRINT.lower().replace(":", "")) == FINGERPRINT
    with pytest.raises(ConfigError, match="SHA-256"):
        app_origins.normalize_fingerprint("AB:CD")


def test_app_lifecycle(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> None:
    tenant, _ = tenant_and_secret
    app, secret = apps.create(
        rt,
        tenant.id,
        name="Mobile",
        android_package="com.example.app",
        android_fingerprints=[FINGERPRINT.lower()],
        ios_team_id="ABCDE12345",
        ios_bundle_id="com.example.app",
    )
    assert secret is None
    assert not app.confidential
    assert apps.PASSKEY_GRANT not in app.grant_types  # off until enabled
    assert app.android_fingerprints == (FINGERPRINT,)
    enabled = apps.update(rt, app.client_id, grant_types=[apps.PASSKEY_GRANT, "refresh_token"])
    assert apps.get(rt, app.client_id).grant_types == enabled.grant_types
    assert [a.client_id for a in apps.list_for(rt, tenant.id)] == [app.client_id]
    apps.delete(rt, app.client_id)
    with pytest.raises(apps.AppNotFound):
        apps.get(rt, app.client_id)


def test_confidential_app_secret(rt: Runtime, tenant_and_secret: tuple[Tenant, str]) -> None:
    tenant, _ = tenant_and_secret
    app, secret = apps.create(rt, tenant.id, name="Web", app_type="regular_web", confidential=True)
    assert secret is not None
    assert secret.startswith(apps.SECRET_PREFIX)
    assert app.client_secret_hash != secret.encode()
    apps.authenticate(app, secret)
    for wrong in (None, "", secret + "x"):
        with pytest.raises(apps.InvalidClient):
            apps.authenticate(app, wrong)


@pytest.mark.parametrize(
    "settings",
    [
        {"app_type": "desktop"},
        {"grant_types": ["password"]},
        {"redirect_uris": ["http://example.com/cb"]},
        {"redirect_uris": ["not a uri"]},
        {"ios_team_id": "abc"},
        {"ios_bundle_id": "nodots"},
        {"android_package": "1bad"},
        {"android_fingerprints": [FINGERPRINT]},  # without a package
    ],
)
def test_bad_app_settings_are_refused(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str], settings: dict[str, object]
) -> None:
    with pytest.raises(ConfigError):
        apps.create(rt, tenant_and_secret[0].id, name="X", **settings)  # type: ignore[arg-type]
    assert apps.list_for(rt, tenant_and_secret[0].id) == []


def test_every_tenant_has_a_default_directory(
    rt: Runtime, tenant_and_secret: tuple[Tenant, str]
) -> None:
    tenant, _ = tenant_and_secret
    [default] = directories.list_for(rt, tenant.id)
    assert default.is_default
    assert default.identifiers == {"email": "required"}
    made = directories.create(rt, tenant.id, "staff", {"username": "required"})
    with rt.transaction() as conn:
        assert directories.resolve(conn, tenant.id, None).id == default.id
        assert directories.resolve(conn, tenant.id, "staff").id == made.id
        with pytest.raises(directories.DirectoryNotFound):
            directories.resolve(conn, tenant.id, "nope")
    with pytest.raises(directories.DirectoryExists):
        directories.create(rt, tenant.id, "staff", {"email": "optional"})
    changed = directories.set_identifiers(rt, tenant.id, "staff", {"phone_number": "required"})
    assert changed.identifiers == {"phone_number": "required"}


@pytest.mark.parametrize(
    ("kind", "given", "stored"),
    [
        ("email", "Ada@Example.COM", "ada@example.com"),
        ("phone_number", "+1 415 555 2671", "+14155552671"),
        ("phone_number", "+442071838750", "+442071838750"),
        ("username", "Ada.L", "ada.l"),
    ],
)
def test_identifiers_are_normalized(kind: str, given: str, stored: str) -> None:
    assert identifiers.normalize(kind, given) == stored


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        ("email", "not-an-address"),
        ("email", "a@b"),
        ("phone_number", "4155552671"),
        ("phone_number", "+1 000"),
        ("username", "ab"),
        ("username", "-ada"),
        ("username", "a" * 65),
        ("shoe_size", "42"),
        ("email", 5),
    ],
)
def test_bad_identifiers_are_refused(kind: str, given: object) -> None:
    with pytest.raises(InvalidRequest):
        identifiers.normalize(kind, given)


def test_directory_schema_rules() -> None:
    for schema in ({}, {"email": "sometimes"}, {"fax": "required"}):
        with pytest.raises(InvalidRequest):
            identifiers.check_schema(schema)


def test_app_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    made = ["tenant", "create", "--rp-id", "localhost", "--origin", "http://localhost:3000"]
    assert main([*made, "--json", *db]) == 0
    tenant_id = json.loads(capsys.readouterr().out)["id"]
    device = ["--android-package", "com.example.app", "--android-fingerprint", FINGERPRINT]
    grant = ["--grant", apps.PASSKEY_GRANT]
    created = main(["app", "create", tenant_id, "--name", "Mobile", *device, *grant, "--json", *db])
    assert created == 0
    app = json.loads(capsys.readouterr().out)
    assert app["android_origins"] == [app_origins.android_origin(FINGERPRINT)]
    assert main(["app", "show", app["client_id"], "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["grant_types"] == [apps.PASSKEY_GRANT]
    assert main(["app", "update", app["client_id"], "--ios-team-id", "bad", *db]) == 2
    assert "team id" in capsys.readouterr().err
    staff = ["directory", "create", tenant_id, "staff", "--identifier", "username=required"]
    assert main([*staff, *db]) == 0
    capsys.readouterr()
    assert main(["directory", "list", tenant_id, "--json", *db]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == ["default", "staff"]
    assert main(["app", "delete", app["client_id"], *db]) == 0
    assert main(["app", "show", app["client_id"], *db]) == 2
