"""The hosted pages and mails in the user's language (issue 20 §1): complete catalogs, the
locale's order (the user's choice, OIDC ui_locales, Accept-Language, the pool's default), the
language switch, a pool's own wording, and the recovery mail."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from litestar.testing import TestClient

from latchkey import i18n
from latchkey.cli import main
from latchkey.errors import InvalidRequest
from latchkey.i18n import script_messages
from latchkey.models import App, Tenant
from latchkey.runtime import Runtime
from latchkey.services import directories, pools
from tests.support.mail import code_and_link, mails
from tests.support.oidc import Relying, make_app, redirected
from tests.support.pools import PoolBrowser, make_pool
from tests.support.portal import Operator, new_operator

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "latchkey"


def _po(locale: str) -> Any:
    path = i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _template_ids() -> set[str]:
    with (PACKAGE / "i18n" / "messages.pot").open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


_PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_shipped_catalog_is_complete_and_not_fuzzy(locale: str) -> None:
    catalog = _po(locale)
    translated = {str(m.id): m for m in catalog if m.id}
    missing = _template_ids() - set(translated)
    assert not missing, f"{locale} lacks {sorted(missing)}"
    for msgid, message in translated.items():
        assert message.string, f"{locale}: {msgid!r} is not translated"
        assert not message.fuzzy, f"{locale}: {msgid!r} is fuzzy"
        # A translation keeps the message's placeholders (the page formats it with them).
        assert sorted(_PLACEHOLDER.findall(str(message.string))) == sorted(
            _PLACEHOLDER.findall(msgid)
        ), (locale, msgid)


def test_the_catalog_template_holds_every_message_of_the_code_and_templates() -> None:
    """Extract as `make messages` does and compare: a string marked in a template or module
    but not in messages.pot (and so in no catalog) fails here."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            str(PACKAGE), method_map, options_map, keywords=keywords
        )
    }
    assert found == _template_ids()
    # The scripts' messages are among them (they reach the page through the catalog).
    assert set(script_messages.MESSAGES.values()) <= found


@pytest.mark.parametrize("locale", [name for name in i18n.LOCALES if name != "en"])
def test_the_compiled_catalogs_are_those_of_the_po_files(locale: str) -> None:
    shipped = i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo"
    with shipped.open("rb") as handle:
        compiled = {str(m.id): m.string for m in read_mo(handle) if m.id}
    fresh = io.BytesIO()
    write_mo(fresh, _po(locale))
    fresh.seek(0)
    expected = {str(m.id): m.string for m in read_mo(fresh) if m.id}
    assert compiled == expected, "run `make messages`"


def test_negotiation_order_and_language_matching() -> None:
    assert i18n.negotiate(chosen="ar", ui_locales="ja", accept="de", default="en") == "ar"
    assert i18n.negotiate(chosen=None, ui_locales="xx ja", accept="de", default="en") == "ja"
    assert (
        i18n.negotiate(chosen="xx", ui_locales="", accept="de-CH, fr;q=0.9", default="en") == "de"
    )
    # q-values order the browser's list, not its position.
    accept = "en;q=0.2, fr;q=0.9, es;q=0.5"
    assert i18n.negotiate(chosen=None, ui_locales=None, accept=accept, default="en") == "fr"
    assert i18n.negotiate(chosen=None, ui_locales=None, accept="pt-PT", default="en") == "pt_BR"
    assert i18n.negotiate(chosen=None, ui_locales=None, accept="ko, *", default="ja") == "ja"
    assert i18n.negotiate(chosen=None, ui_locales=None, accept="fr;q=0", default="de") == "de"
    assert i18n.direction("ar") == "rtl"
    assert i18n.direction("ja") == "ltr"


@pytest.fixture
def tenant(tenant_and_secret: tuple[Tenant, str]) -> Tenant:
    return tenant_and_secret[0]


@pytest.fixture
def pool(rt: Runtime, tenant: Tenant) -> pools.Pool:
    return make_pool(rt, tenant, display_name="Example Customers")


def _page_messages(page: str) -> dict[str, dict[str, str]]:
    found = re.search(r'<script type="application/json" id="page-messages">(.*?)</script>', page)
    assert found
    return dict(json.loads(found.group(1)))


def test_the_sign_in_page_speaks_the_browsers_language(
    client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    page = client.get(
        f"/{tenant.id}/identity/{pool.id}/signin", headers={"accept-language": "fr-CA,fr;q=0.9"}
    )
    assert page.status_code == 200
    assert '<html lang="fr" dir="ltr">' in page.text
    assert "Se connecter avec une clé d\u2019accès" in page.text
    assert "<title>Connexion · Example Customers</title>" in page.text
    # The scripts' messages and error words come in the page's language too.
    data = _page_messages(page.text)
    assert data["messages"]["waiting"] == "En attente de votre clé d\u2019accès…"
    assert data["errors"]["recovery_code_invalid"].startswith("Ce code n\u2019est pas correct.")
    # The identifier field has its own visible Continue button (issue 20 §4).
    assert 'id="continue"' in page.text


def test_english_without_a_preference(client: TestClient, tenant: Tenant, pool: pools.Pool) -> None:
    page = client.get(f"/{tenant.id}/identity/{pool.id}/signin")
    assert '<html lang="en" dir="ltr">' in page.text
    assert "Sign in with a passkey" in page.text


def test_the_language_switch_is_remembered_and_arabic_reads_right_to_left(
    client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    base = f"/{tenant.id}/identity/{pool.id}"
    switched = client.get(f"{base}/recovery?lang=ar", headers={"accept-language": "de"})
    assert switched.status_code == 200
    assert '<html lang="ar" dir="rtl">' in switched.text
    assert "إعادة تعيين مفتاح المرور" in switched.text
    assert switched.cookies.get(i18n.COOKIE) == "ar"
    # The cookie outranks the browser's language on the next page.
    later = client.get(f"{base}/signin", headers={"accept-language": "de"})
    assert '<html lang="ar" dir="rtl">' in later.text
    # Every language is offered, each link keeps the page's own query.
    # A mailed link's token is in none of them.
    linked = client.get(f"{base}/recovery?token=secret-token-value")
    assert "secret-token-value" not in linked.text.replace(
        'data-link-token="secret-token-value"', ""
    )
    later = client.get(f"{base}/signin?flow=abc&lang=ja")
    assert 'lang="ja"' in later.text
    assert html.escape(f"{base}/signin?flow=abc&lang=de") in later.text
    for name in ("English", "Deutsch", "Français", "Español", "Português", "日本語", "العربية"):
        assert f">{name}" in later.text


def test_the_pools_default_language(client: TestClient, rt: Runtime, tenant: Tenant) -> None:
    german = make_pool(rt, tenant, "kunden", default_locale="de")
    page = client.get(
        f"/{tenant.id}/identity/{german.id}/signup", headers={"accept-language": "ko"}
    )
    assert '<html lang="de" dir="ltr">' in page.text
    assert "Konto mit einem Passkey erstellen" in page.text
    with pytest.raises(InvalidRequest, match="default_locale must be one of"):
        pools.configure(rt, tenant.id, "kunden", {"default_locale": "xx"})


@pytest.fixture
def app(rt: Runtime, tenant: Tenant) -> App:
    return make_app(rt, tenant)[0]


def test_oidc_ui_locales_comes_before_the_browsers_language(
    client: TestClient, tenant: Tenant, app: App, pool: pools.Pool
) -> None:
    rp = Relying(client, tenant, app, pool)
    found = client.get(f"/t/{tenant.id}/.well-known/openid-configuration").json()
    assert found["ui_locales_supported"] == ["en", "de", "fr", "es", "pt-BR", "ja", "ar"]
    where, query = redirected(rp.authorize(ui_locales="xx-YY ja de"))
    page = client.get(where, params=query, headers={"accept-language": "fr"})
    assert '<html lang="ja" dir="ltr">' in page.text
    assert "パスキーでサインイン" in page.text


def test_a_pools_own_wording_comes_before_the_catalog_and_is_text_not_markup(
    client: TestClient, rt: Runtime, tenant: Tenant, pool: pools.Pool
) -> None:
    pools.set_message(rt, tenant.id, pool.id, "de", "Sign in with a passkey", "Los <b>geht's</b>")
    pools.set_message(
        rt,
        tenant.id,
        pool.id,
        "de",
        "Reset the passkey of your %(pool)s account",
        "%(pool)s: 100%% neu",
    )
    base = f"/{tenant.id}/identity/{pool.id}"
    german = client.get(f"{base}/signin", headers={"accept-language": "de"})
    assert "Los &lt;b&gt;geht&#39;s&lt;/b&gt;" in german.text
    assert "Los <b>" not in german.text
    # The scripts' messages too (as text: the page sets them with textContent).
    pools.set_message(rt, tenant.id, pool.id, "de", "Waiting for your passkey…", "<i>Moment</i>")
    german = client.get(f"{base}/signin", headers={"accept-language": "de"})
    assert _page_messages(german.text)["messages"]["waiting"] == "<i>Moment</i>"
    assert "<i>Moment</i>" not in german.text
    # Other languages keep the catalog's.
    french = client.get(f"{base}/signin", headers={"accept-language": "fr"})
    assert "Se connecter avec une clé d\u2019accès" in french.text
    # Removing it brings the catalog back.
    pools.set_message(rt, tenant.id, pool.id, "de", "Sign in with a passkey", None)
    german = client.get(f"{base}/signin", headers={"accept-language": "de"})
    assert "Mit einem Passkey anmelden" in german.text


@pytest.mark.parametrize(
    ("locale", "msgid", "text", "reason"),
    [
        ("de", "Sign in", "", "must be 1 to 1000 characters"),
        ("de", "No such message", "x", "is not a message of the hosted pages"),
        ("xx", "Sign in", "x", "messages' locale must be one of"),
        ("de", "Delete %(name)s", "Löschen", r"must use the message's placeholders \(name\)"),
        ("de", "Sign in", "100% sicher", "write a percent sign as %%"),
        ("de", "Sign in", "%(name)s", r"placeholders \(none\)"),
    ],
)
def test_a_pools_wording_is_checked(
    rt: Runtime, tenant: Tenant, pool: pools.Pool, locale: str, msgid: str, text: str, reason: str
) -> None:
    with pytest.raises(InvalidRequest, match=reason):
        pools.configure(rt, tenant.id, pool.id, {"messages": {locale: {msgid: text}}})
    assert pools.get(rt, tenant.id, pool.id).settings.messages == {}


def test_the_recovery_mail_speaks_the_pages_language(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    member = PoolBrowser(client, tenant.id, pool.id)
    assert member.sign_up("ada@example.com").status_code == 200
    pools.set_message(
        rt,
        tenant.id,
        pool.id,
        "de",
        "Reset the passkey of your %(pool)s account",
        "%(pool)s: 100%% neu",
    )
    asked = client.post(
        f"{member.base}/recovery/begin",
        json={"identifier": "ada@example.com"},
        headers={"accept-language": "de-AT"},
    )
    assert asked.status_code == 200
    (mail,) = mails(rt)
    assert mail.subject == "Example Customers: 100% neu"
    assert "Ihr Code lautet" in mail.text_body
    assert "Beides funktioniert einmal und 15 Minuten lang." in mail.text_body
    code = re.search(r"Ihr Code lautet (\d{6})", mail.text_body)
    assert code
    verified = member.post(
        "recovery/verify", {"code": code.group(1), "flow_id": asked.json()["flow_id"]}
    )
    assert verified.status_code == 200, verified.text


def test_the_recovery_mail_in_english_by_default(
    rt: Runtime, client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    member = PoolBrowser(client, tenant.id, pool.id)
    assert member.sign_up("ada@example.com").status_code == 200
    assert member.post("recovery/begin", {"identifier": "ada@example.com"}).status_code == 200
    (mail,) = mails(rt)
    assert mail.subject == "Reset the passkey of your Example Customers account"
    code_and_link(mail)


def test_pool_set_message_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = ["--database-url", f"sqlite:///{tmp_path / 'cli.db'}"]
    assert main(["tenant", "create", "--rp-id", "example.com", "--origin", "https://example.com",
                 "--json", *url]) == 0  # fmt: skip
    tenant_id = json.loads(capsys.readouterr().out)["id"]
    args = ["pool", "set-message", tenant_id, "default", "ja", "Sign in", "ログイン", *url]
    assert main(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["messages"] == {"ja": {"Sign in": "ログイン"}}
    assert main(["pool", "set-message", tenant_id, "default", "ja", "Sign in", *url]) == 0
    assert json.loads(capsys.readouterr().out)["messages"] == {}
    assert main(["pool", "configure", tenant_id, "default", "--default-locale", "fr", *url]) == 0
    assert json.loads(capsys.readouterr().out)["default_locale"] == "fr"
    bad = ["pool", "set-message", tenant_id, "default", "ja", "Delete %(name)s", "消す", *url]
    assert main(bad) == 2
    assert "placeholders (name)" in capsys.readouterr().err


def test_pool_message_from_the_portal(rt: Runtime, client: TestClient, tenant: Tenant) -> None:
    root: Operator = new_operator(rt, client)
    base = f"/portal/t/{tenant.id}/pools"
    listed = root.page(base)
    assert "Messages in the pool's own words" in listed.text
    assert 'value="Reset the passkey of your %(pool)s account"' in listed.text
    msgid = "Your code is %(code)s. Or open this link:\n%(link)s"
    saved = root.form(
        f"{base}/{directories.DEFAULT_NAME}/messages",
        locale="es",
        message=msgid.replace("\n", "\r\n"),
        text="Código: %(code)s\r\n%(link)s",
    )
    assert saved.status_code == 303, saved.text[-500:]
    pool = pools.get(rt, tenant.id, directories.DEFAULT_NAME)
    assert pool.settings.messages == {"es": {msgid: "Código: %(code)s\n%(link)s"}}
    refused = root.form(
        f"{base}/{directories.DEFAULT_NAME}/messages", locale="es", message="Sign in", text="50%"
    )
    assert refused.status_code == 400
    assert "write a percent sign as %%" in html.unescape(refused.text)


def test_the_account_page_writes_times_as_the_language_does(
    client: TestClient, tenant: Tenant, pool: pools.Pool
) -> None:
    member = PoolBrowser(client, tenant.id, pool.id)
    assert member.sign_up("ada@example.com").status_code == 200
    german = client.get(f"{member.base}/account", headers={"accept-language": "de"})
    assert german.status_code == 200
    assert re.search(
        r"erstellt <time datetime=\S+>\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d UTC<", german.text
    )
    english = client.get(f"{member.base}/account")
    assert re.search(r"created <time datetime=\S+>[A-Z][a-z]{2} \d{1,2}, \d{4}, ", english.text)


def test_the_bot_checks_widget_speaks_the_pages_language(
    client: TestClient, rt: Runtime, tenant: Tenant
) -> None:
    guarded = make_pool(rt, tenant, "guarded", bot_check=True)
    page = client.get(
        f"/{tenant.id}/identity/{guarded.id}/signup", headers={"accept-language": "ja"}
    )
    strings = _page_messages(page.text)["altcha"]
    assert strings["label"] == "私はロボットではありません"
    assert set(strings) == set(script_messages.ALTCHA)
