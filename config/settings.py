"""The bot's settings: one TOML file (every key documented in config/bot.example.toml) plus environment
overrides. Secrets only from the environment or a secret file, never from the settings file."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from config.errors import ConfigError

ENV_PREFIX = "SUBBOT_"
# Keys whose environment value is a comma-separated list.
_LISTS = frozenset({"own_addresses", "to", "authserv_ids", "addresses", "authenticated_by"})
# Keys that mean something for one type of mailbox only, and the other type's key for the same purpose.
IMAP_ONLY = {"processed_keyword": "processed_flag", "sent_folder": "sent_path"}
MAILDIR_ONLY = {value: key for key, value in IMAP_ONLY.items()}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MailboxSettings(_Section):
    type: Literal["maildir", "imap"] = "maildir"
    path: Path = Path("data/inbox")
    host: str = ""
    port: Annotated[int, Field(gt=0, lt=65536)] = 993
    username: str = ""
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    ca_file: Path | None = None
    folder: str = "INBOX"
    timeout: Annotated[float, Field(gt=0)] = 60.0
    idle: bool = True
    processed_keyword: str | None = None
    processed_flag: str | None = None
    processed_folder: str | None = None
    sent_folder: str | None = None
    sent_path: Path | None = None
    # The receiving server's authserv-id(s): only its Authentication-Results decide whether a From is genuine.
    authserv_ids: tuple[str, ...] = ()

    @field_validator(*IMAP_ONLY, *MAILDIR_ONLY)
    @classmethod
    def _of_its_type(cls, value: object, info: ValidationInfo) -> object:
        kind, key = info.data.get("type"), info.field_name or ""
        if value is not None and kind == "maildir" and key in IMAP_ONLY:
            raise ValueError(f"{key} 只用于 IMAP 邮箱；Maildir 邮箱请用 {IMAP_ONLY[key]}")
        if value is not None and kind == "imap" and key in MAILDIR_ONLY:
            raise ValueError(f"{key} 只用于 Maildir 邮箱；IMAP 邮箱请用 {MAILDIR_ONLY[key]}")
        return value

    @field_validator("processed_flag")
    @classmethod
    def _one_lowercase_letter(cls, value: str | None) -> str | None:
        # The uppercase letters mean Passed, Replied, Seen, Trashed, Draft, Flagged to staff's client.
        if value is not None and not (len(value) == 1 and "a" <= value <= "z"):
            raise ValueError(
                f"应为一个小写字母（a 至 z），而不是 {value!r}：大写字母在邮件客户端中各有含义（如 S 表示已读）"
            )
        return value

    @field_validator("processed_folder")
    @classmethod
    def _folder_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and (not all(value.split("/")) or (info.data.get("type") == "maildir" and "." in value)):
            raise ValueError(f"{value!r} 不是文件夹名（不能为空；Maildir 的文件夹名不能含“.”，子文件夹用“/”分隔）")
        return value


class SmtpSettings(_Section):
    type: Literal["outbox", "smtp"] = "outbox"
    outbox_dir: Path = Path("data/outbox")
    host: str = ""
    port: Annotated[int, Field(gt=0, lt=65536)] = 465
    username: str = ""
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    ca_file: Path | None = None
    timeout: Annotated[float, Field(gt=0)] = 60.0


class BotSettings(_Section):
    from_address: str = "kepu@example.org"
    from_name: str = "中国石油学会科普咨询部"
    own_addresses: tuple[str, ...] = ()
    data_dir: Path = Path("data")
    database_url: str = ""
    campaign: Path | None = None
    roster: Path | None = None
    templates_dir: Path | None = None
    poll_minutes: Annotated[float, Field(gt=0)] = 5.0
    reply_cap_per_day: Annotated[int, Field(ge=1)] = 5
    reply_backlog: bool = False


class DigestSettings(_Section):
    """The staff's daily digest: who gets it, and at what local time (the campaign's timezone)."""

    to: tuple[str, ...] = ()
    hour: dt.time = dt.time(8, 0)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"不是邮箱地址：{bad}")
        return tuple(a.strip() for a in value)


# What the receiving server may have checked of a staff mail for its commands to be taken. SPF is not among
# them: it vouches for the sending server, and a shared provider's server sends for all its users.
STAFF_METHODS = ("dmarc", "dkim")


class StaffSettings(_Section):
    """Who may command the bot by mail (parsers.staff), and which of the receiving server's checks must pass."""

    addresses: tuple[str, ...] = ()
    authenticated_by: tuple[str, ...] = STAFF_METHODS

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if "@" not in a]
        if bad:
            raise ValueError(f"不是邮箱地址：{bad}")
        return tuple(dict.fromkeys(a.strip().lower() for a in value))

    @field_validator("authenticated_by")
    @classmethod
    def _methods(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        methods = tuple(dict.fromkeys(m.strip().lower() for m in value))
        if not methods:
            raise ValueError("至少要有一种验证方式：dmarc 或 dkim")
        if bad := [m for m in methods if m not in STAFF_METHODS]:
            raise ValueError(f"只能是 dmarc 或 dkim，而不是 {bad}（spf 只证明发信的服务器，不证明发件人）")
        return methods


class Settings(_Section):
    bot: BotSettings = BotSettings()
    mailbox: MailboxSettings = MailboxSettings()
    smtp: SmtpSettings = SmtpSettings()
    digest: DigestSettings = DigestSettings()
    staff: StaffSettings = StaffSettings()
    # Secrets: filled from SUBBOT_IMAP_PASSWORD / SUBBOT_SMTP_PASSWORD or their *_FILE variants.
    imap_password: str = Field(default="", repr=False)
    smtp_password: str = Field(default="", repr=False)

    def database(self) -> str:
        return self.bot.database_url or f"sqlite:///{self.bot.data_dir / 'ledger.sqlite3'}"

    def own(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.bot.from_address, *self.bot.own_addresses))


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `path` (or the embedded defaults when None), then SUBBOT_SECTION_KEY overrides."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(path, "", f"无法读取：{exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(path, "", f"TOML 格式错误：{exc}") from exc
    for secret in ("imap_password", "smtp_password"):
        if secret in data:
            raise ConfigError(
                path or "",
                secret,
                f"密码不能写在配置文件中；请用环境变量 {ENV_PREFIX}{secret.upper()} 或 {ENV_PREFIX}{secret.upper()}_FILE",
            )
    _apply_environment(data, env)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(path or "环境变量", key, first["msg"].removeprefix("Value error, ")) from exc
    _check_staff(settings, path)
    return settings


def _check_staff(settings: Settings, path: Path | None) -> None:
    """Staff commands across sections: the bot never reads its own mail, and without the receiving server's
    name anyone could write the Authentication-Results that vouch for a staff address."""
    if own := sorted(set(settings.staff.addresses) & settings.own()):
        raise ConfigError(
            path or "环境变量", "staff.addresses", f"{own} 是机器人自己的地址：机器人不读自己地址发来的邮件"
        )
    if settings.staff.addresses and not settings.mailbox.authserv_ids:
        raise ConfigError(
            path or "环境变量",
            "mailbox.authserv_ids",
            "设置了 staff.addresses 就必须填写收信服务器的名字（Authentication-Results 的第一个词）："
            "否则无法分辨服务器写的验证结果与冒名者自己写的，工作人员的指令就可能被伪造",
        )


def _apply_environment(data: dict[str, Any], env: Mapping[str, str]) -> None:
    sections: dict[str, type[_Section]] = {
        "bot": BotSettings,
        "mailbox": MailboxSettings,
        "smtp": SmtpSettings,
        "digest": DigestSettings,
        "staff": StaffSettings,
    }
    for section, model in sections.items():
        for name in model.model_fields:
            value = env.get(f"{ENV_PREFIX}{section.upper()}_{name.upper()}")
            if value is not None:
                data.setdefault(section, {})[name] = value.split(",") if name in _LISTS else value
    for secret in ("imap_password", "smtp_password"):
        variable = f"{ENV_PREFIX}{secret.upper()}"
        if variable in env:
            data[secret] = env[variable]
        elif f"{variable}_FILE" in env:
            secret_path = Path(env[f"{variable}_FILE"])
            try:
                data[secret] = secret_path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(secret_path, f"{variable}_FILE", f"无法读取密码文件：{exc.strerror or exc}") from exc
