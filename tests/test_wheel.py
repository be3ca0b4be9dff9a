"""The wheel is the product: build the sdist and wheel from this checkout, check they carry every
file of the package, install the wheel into a fresh virtualenv (no system site-packages, no
editable install) and use it as an operator would: `latchkey serve --dev` and `latchkey demo`
answer their pages, and a passkey signs up and in over HTTP with the installed package's
software authenticator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.live_server import TEST_LIMITS, free_port, running

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "latchkey"
JOURNEY = Path(__file__).resolve().parent / "wheel_journey.py"

# The first start of a fresh virtualenv installed without bytecode compiles every module it
# imports; beside a parallel test run on two cores that can take longer than a warm start.
FIRST_START = 120.0


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path
    venv: Path
    home: Path  # the working directory the installed commands run in

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def package_files() -> set[str]:
    """Every file of the package in the checkout (as git tracks it), as `latchkey/...`."""
    listed = subprocess.run(
        ["git", "ls-files", "src/latchkey"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode == 0 and listed.stdout.strip():
        paths = [ROOT / line for line in listed.stdout.splitlines()]
    else:  # not a git checkout (an unpacked sdist): the tree as it is
        paths = [p for p in PACKAGE.rglob("*") if p.is_file()]
    return {
        p.relative_to(PACKAGE.parent).as_posix()
        for p in paths
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def source_copy(target: Path) -> Path:
    """The project's build inputs without the checkout's build leftovers: an editable install's
    src/latchkey.egg-info lists files from earlier builds, which setuptools would ship again
    whatever pyproject.toml says."""
    leftovers = shutil.ignore_patterns("*.egg-info", "__pycache__", "*.pyc", "build", "dist")
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "src", target / "src", ignore=leftovers)
    return target


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of an operator's shell: none of this test run's LATCHKEY_* settings (its
    master key), nothing pointing Python at the checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LATCHKEY_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    return env | extra


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source_copy(work / "src"))],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    [wheel] = dist.glob("latchkey-*.whl")
    [sdist] = dist.glob("latchkey-*.tar.gz")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # This environment's pip installs into the new one (no pip of its own to bootstrap); the
    # dependencies come from the configured index or pip's cache.
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    subprocess.run(
        [*pip, "--quiet", "--no-compile", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    home = work / "home"
    home.mkdir()
    return Built(wheel, sdist, venv, home)


def test_the_wheel_and_sdist_carry_every_package_file(built: Built) -> None:
    expected = package_files()
    assert "latchkey/web/templates/hosted/signin.html" in expected
    with zipfile.ZipFile(built.wheel) as wheel:
        in_wheel = {name for name in wheel.namelist() if name.startswith("latchkey/")}
    assert sorted(expected - in_wheel) == []
    with tarfile.open(built.sdist) as sdist:
        prefix = f"{built.sdist.name.removesuffix('.tar.gz')}/src/"
        in_sdist = {
            m.name.removeprefix(prefix) for m in sdist.getmembers() if m.name.startswith(prefix)
        }
    assert sorted(expected - in_sdist) == []


def test_the_installed_package_is_the_wheel(built: Built) -> None:
    found = subprocess.run(
        [built.bin("python"), "-c", "import latchkey; print(latchkey.__file__)"],
        cwd=built.home,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip().startswith(str(built.venv))
    version = subprocess.run(
        [built.bin("latchkey"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == "latchkey 0.1.0"


def test_installed_serve_answers_every_surface_and_a_passkey_round_trip(built: Built) -> None:
    port = free_port()
    home = built.home / "serve"
    home.mkdir()
    command = [built.bin("latchkey"), "serve", "--dev", "--port", str(port)]
    log = home / "serve.log"
    with running(
        command, port, clean_env(**TEST_LIMITS), log, cwd=home, startup_timeout=FIRST_START
    ):
        output = log.read_text()
        tenant = re.search(r"tenant id:\s+(\S+)", output)
        secret = re.search(r"secret key:\s+(\S+)", output)
        assert tenant, output
        assert secret, output
        base = f"http://localhost:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            pages = {
                "hosted sign-in": f"/{tenant[1]}/identity/default/signin",
                "hosted sign-up": f"/{tenant[1]}/identity/default/signup",
                "portal sign-in": "/portal/login",
                "web sdk module": "/sdk/v1/latchkey.mjs",
                "web sdk script": "/sdk/v1/latchkey.js",
                "hosted script": "/static/hosted/hosted.js",
                "openapi": "/openapi.json",
            }
            answers = {name: http.get(path) for name, path in pages.items()}
        assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(pages, 200)
        assert "<form" in answers["hosted sign-in"].text
        assert "<html" in answers["portal sign-in"].text.lower()
        paths = answers["openapi"].json()["paths"]
        assert "/api/v1/tenants/{tenant_id}/registration/options" in paths
        journey = subprocess.run(
            [built.bin("python"), str(JOURNEY), base, tenant[1], secret[1], base],
            cwd=home,
            env=clean_env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    seen = json.loads(journey.stdout)
    assert str(seen.pop("latchkey")).startswith(str(built.venv))
    assert seen == {
        "registration_options": 200,
        "registration_verify": 200,
        "authentication_options": 200,
        "authentication_verify": 200,
        "user_id": "wheel-user",
    }
    # Development mode made its key file where it ran, readable by its owner only.
    assert oct((home / "latchkey.master-key").stat().st_mode & 0o777) == "0o600"


def test_installed_demo_answers_its_pages(built: Built) -> None:
    home = built.home / "demo"
    home.mkdir()
    latchkey, login, app, portal = (free_port() for _ in range(4))
    command = [built.bin("latchkey"), "demo", "--port", str(latchkey)]
    command += ["--login-port", str(login), "--app-port", str(app), "--portal-port", str(portal)]
    log = home / "demo.log"
    with (
        running(
            command, latchkey, clean_env(**TEST_LIMITS), log, cwd=home, startup_timeout=FIRST_START
        ),
        httpx.Client(timeout=30, follow_redirects=True) as http,
    ):
        for port in (login, app, portal):
            wait_healthy_page(http, f"http://localhost:{port}/")
        # The portal's sign-in goes through Latchkey's /authorize to its hosted sign-in page.
        signin = http.get(f"http://localhost:{portal}/login")
    assert signin.status_code == 200
    assert re.fullmatch(r"/[\w-]+/identity/[\w-]+/signin", signin.url.path)
    assert "<form" in signin.text
    [notice] = [line for line in log.read_text().splitlines() if "development mode" in line]
    assert "not for production" in notice


def wait_healthy_page(http: httpx.Client, url: str) -> None:
    """The demo's apps start beside Latchkey; each page answers 200 once its server is up."""
    for _ in range(100):
        try:
            answer = http.get(url)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        assert answer.status_code == 200, (url, answer.text[:500])
        assert "<html" in answer.text.lower()
        return
    raise AssertionError(f"{url} did not answer")
