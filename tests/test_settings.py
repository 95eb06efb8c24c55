"""Settings: embedded defaults, the example file, environment overrides, secrets never from the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError
from config.settings import load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "bot.example.toml"


def test_embedded_defaults_need_no_server() -> None:
    settings = load_settings(None, {})
    assert settings.mailbox.type == "maildir"
    assert settings.smtp.type == "outbox"
    assert settings.database() == "sqlite:///data/ledger.sqlite3"


def test_the_example_file_loads_and_documents_every_key() -> None:
    settings = load_settings(EXAMPLE, {})
    assert (settings.mailbox.type, settings.mailbox.security, settings.smtp.security) == ("imap", "ssl", "ssl")
    text = EXAMPLE.read_text(encoding="utf-8")
    for section in (settings.bot, settings.mailbox, settings.smtp):
        for key in type(section).model_fields:
            assert f"{key} =" in text, f"{key} is not documented in bot.example.toml"


def test_environment_overrides_the_file_and_carries_secrets(tmp_path: Path) -> None:
    secret = tmp_path / "smtp.secret"
    secret.write_text("s3cret\n", encoding="utf-8")
    env = {
        "SUBBOT_MAILBOX_PORT": "1993",
        "SUBBOT_BOT_OWN_ADDRESSES": "a@example.org,b@example.org",
        "SUBBOT_IMAP_PASSWORD": "imap-pass",
        "SUBBOT_SMTP_PASSWORD_FILE": str(secret),
    }
    settings = load_settings(EXAMPLE, env)
    assert settings.mailbox.port == 1993
    assert settings.own() == frozenset({"kepu@example.org", "a@example.org", "b@example.org"})
    assert (settings.imap_password, settings.smtp_password) == ("imap-pass", "s3cret")
    assert "imap-pass" not in repr(settings) and "s3cret" not in repr(settings)


def test_a_password_in_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text('imap_password = "oops"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="SUBBOT_IMAP_PASSWORD"):
        load_settings(path, {})


def test_a_bad_value_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text('[mailbox]\nsecurity = "none"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    assert caught.value.key == "mailbox.security"
    assert caught.value.path == str(path)
