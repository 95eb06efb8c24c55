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
    for section in (settings.bot, settings.mailbox, settings.smtp, settings.digest, settings.staff):
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


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_maildir_keys_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[mailbox]\ntype = "maildir"\npath = "inbox"\nprocessed_flag = "a"\nprocessed_folder = "已处理/2021"\n'
        'sent_path = "inbox/.Sent"\n',
    )
    box = load_settings(path, {}).mailbox
    assert (box.processed_flag, box.processed_folder, box.sent_path) == ("a", "已处理/2021", Path("inbox/.Sent"))
    assert box.idle is True


@pytest.mark.parametrize("flag", ["S", "T", "R", "F", "ab", "1", ""])
def test_a_processed_flag_other_than_one_lowercase_letter_is_refused(tmp_path: Path, flag: str) -> None:
    with pytest.raises(ConfigError, match="小写字母") as caught:
        load_settings(write(tmp_path, f'[mailbox]\ntype = "maildir"\nprocessed_flag = "{flag}"\n'), {})
    assert caught.value.key == "mailbox.processed_flag"


@pytest.mark.parametrize(
    ("kind", "key", "value", "instead"),
    [
        ("maildir", "processed_keyword", '"$SubbotDone"', "processed_flag"),
        ("maildir", "sent_folder", '"Sent"', "sent_path"),
        ("imap", "processed_flag", '"a"', "processed_keyword"),
        ("imap", "sent_path", '"sent"', "sent_folder"),
    ],
)
def test_a_key_of_the_other_mailbox_type_is_refused_naming_the_right_one(
    tmp_path: Path, kind: str, key: str, value: str, instead: str
) -> None:
    path = write(tmp_path, f'[mailbox]\ntype = "{kind}"\n{key} = {value}\n')
    with pytest.raises(ConfigError, match=instead) as caught:
        load_settings(path, {})
    assert caught.value.key == f"mailbox.{key}"


@pytest.mark.parametrize(("kind", "folder"), [("maildir", "a.b"), ("maildir", ""), ("imap", ""), ("imap", "Done/")])
def test_a_processed_folder_that_is_no_folder_name_is_refused(tmp_path: Path, kind: str, folder: str) -> None:
    path = write(tmp_path, f'[mailbox]\ntype = "{kind}"\nprocessed_folder = "{folder}"\n')
    with pytest.raises(ConfigError, match="文件夹名") as caught:
        load_settings(path, {})
    assert caught.value.key == "mailbox.processed_folder"


def test_idle_can_be_turned_off_from_the_environment() -> None:
    assert load_settings(EXAMPLE, {"SUBBOT_MAILBOX_IDLE": "false"}).mailbox.idle is False


def _staff(tmp_path: Path, staff: str, mailbox: str = 'authserv_ids = ["mx.society.org.cn"]') -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(f"[mailbox]\n{mailbox}\n[staff]\n{staff}\n", encoding="utf-8")
    return path


def test_staff_addresses_are_lower_cased_and_need_dmarc_or_dkim(tmp_path: Path) -> None:
    settings = load_settings(_staff(tmp_path, 'addresses = ["ZhangLi@Society.org.cn ", "zhangli@society.org.cn"]'), {})
    assert settings.staff.addresses == ("zhangli@society.org.cn",)
    assert settings.staff.authenticated_by == ("dmarc", "dkim")
    assert load_settings(None, {}).staff.addresses == ()  # never taken from [digest] to
    env = {"SUBBOT_STAFF_ADDRESSES": "a@society.org.cn,b@society.org.cn", "SUBBOT_STAFF_AUTHENTICATED_BY": "DKIM"}
    settings = load_settings(_staff(tmp_path, ""), env)
    assert (settings.staff.addresses, settings.staff.authenticated_by) == (
        ("a@society.org.cn", "b@society.org.cn"),
        ("dkim",),
    )


@pytest.mark.parametrize(
    ("staff", "mailbox", "key", "words"),
    [
        ('authenticated_by = ["spf"]', "", "staff.authenticated_by", "spf 只证明发信的服务器"),
        ("authenticated_by = []", "", "staff.authenticated_by", "至少要有一种验证方式"),
        ('addresses = ["zhangli"]', "", "staff.addresses", "不是邮箱地址"),
        ('addresses = ["kepu@example.org"]', "", "staff.addresses", "机器人自己的地址"),
        ('addresses = ["zhangli@society.org.cn"]', "authserv_ids = []", "mailbox.authserv_ids", "冒名者"),
    ],
)
def test_staff_settings_are_refused_with_the_key_and_why(
    tmp_path: Path, staff: str, mailbox: str, key: str, words: str
) -> None:
    path = _staff(tmp_path, staff, *([mailbox] if mailbox else []))
    with pytest.raises(ConfigError) as caught:
        load_settings(path, {})
    assert (caught.value.key, caught.value.path) == (key, str(path))
    assert words in caught.value.problem
