"""No default secrets: tokens and keys are generated once per var/, weak ones stop a service."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

import shared.cli
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.cli import serve
from shared.crypto import (
    column_kid,
    decrypt_column,
    encrypt_column,
    key_id,
    keyring_path,
    load_keyring,
    use_keyring,
)
from shared.keys import rotate
from shared.secrets import admin_token_path, resolve_admin_token
from shared.settings import ChartflowSettings

HOSPITAL = {
    "id": "mercy", "name": "Mercy", "npi": "1234567893", "tax_id": "361234567",
    "address": {"line1": "1 Way", "city": "Springfield", "state": "IL", "zip": "62701"},
}  # fmt: skip


def _start(var: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> int:
    """`python -m services.intake api`, its settings from the environment, as the runner
    starts it; returns its exit code when it refuses to start."""
    for name in ("ADMIN_TOKEN", "PHI_KEY", "PHI_KEY_FILE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"CHARTFLOW_VAR": str(var), **env}.items():
        monkeypatch.setenv(name, value)

    def started(*_: object, **__: object) -> None:
        raise AssertionError("the service started")

    monkeypatch.setattr(shared.cli.uvicorn, "run", started)
    return serve(IntakeSettings(), create_app, ["api"])


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"ADMIN_TOKEN": "local-admin-token"}, "well-known default"),
        ({"ADMIN_TOKEN": "a-short-token"}, "at least 32 characters"),
        ({"PHI_KEY": "c2hvcnQta2V5"}, "must be 32 bytes"),
        ({"PHI_KEY": "identity " + Fernet.generate_key().decode()}, "no PHI key for scope"),
        ({"PHI_KEY_FILE": "/nonexistent/phi-keys"}, "does not exist"),
    ],
)
def test_a_service_refuses_to_start_with_a_default_or_weak_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    complaint: str,
) -> None:
    code = _start(tmp_path, monkeypatch, **env)

    said = capsys.readouterr().err
    assert code == 2
    assert "intake: refusing to start: " in said
    assert complaint in said
    for name in ("ADMIN_TOKEN", "PHI_KEY"):
        assert env.get(name, "never printed") not in said  # nor is the secret


def test_the_first_start_generates_the_admin_token_and_phi_keys_privately_once(
    tmp_path: Path,
) -> None:
    first = resolve_admin_token(None, tmp_path)
    keys = load_keyring(None, None, tmp_path)

    assert len(first) >= 32
    assert resolve_admin_token(None, tmp_path) == first  # shared by every service of this var/
    assert load_keyring(None, None, tmp_path).key_ids() == keys.key_ids()
    for path in (admin_token_path(tmp_path), keyring_path(tmp_path)):
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o077 == 0
    assert resolve_admin_token(None, tmp_path / "other") != first


def test_the_old_default_token_is_refused_by_a_running_service(tmp_path: Path) -> None:
    settings = ChartflowSettings(
        service_name="intake",
        kafka_bootstrap_servers="127.0.0.1:1",
        chartflow_var=tmp_path,
        database_url=None,
    )
    generated = admin_token_path(tmp_path)

    with TestClient(create_app(settings, frozenset({"api"}))) as client:
        token = generated.read_text().strip()
        default = client.post(
            "/v1/admin/hospitals",
            json=HOSPITAL,
            headers={"Authorization": "Bearer local-admin-token"},
        )
        real = client.post(
            "/v1/admin/hospitals", json=HOSPITAL, headers={"Authorization": f"Bearer {token}"}
        )

    assert default.status_code == 401
    assert real.status_code == 201


def test_keys_come_from_a_file_outside_var_and_rotation_keeps_old_keys_readable(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "elsewhere" / "phi-keys"
    key_file.parent.mkdir()
    key_file.write_text(
        "".join(
            f"{s} {Fernet.generate_key().decode()}\n" for s in ("storage", "identity", "clinical")
        )
    )
    var = tmp_path / "var"
    before = load_keyring(key_file, None, var)

    new_ids = rotate(key_file, ["identity"])
    after = load_keyring(key_file, None, var)

    assert not keyring_path(var).exists()  # nothing generated next to the data
    assert after.newest("identity") == new_ids[0] != before.newest("identity")
    assert after.key_ids()["identity"] == [new_ids[0], *before.key_ids()["identity"]]
    assert after.newest("storage") == before.newest("storage")
    assert key_file.stat().st_mode & 0o777 == 0o600
    kid, token = before.encrypt("identity", b"Maria")
    assert after.decrypt(kid, token, "identity") == b"Maria"


def test_data_from_an_older_build_opens_with_its_adopted_key(tmp_path: Path) -> None:
    old_key = Fernet.generate_key()
    (tmp_path / "phi.key").write_bytes(old_key)  # where older builds kept their one key
    stored = Fernet(old_key).encrypt(b'{"first_name": "Maria"}').decode()  # no key id

    use_keyring(load_keyring(None, None, tmp_path))

    assert decrypt_column(stored) == '{"first_name": "Maria"}'
    assert column_kid(encrypt_column("x")) == key_id("storage", old_key)
