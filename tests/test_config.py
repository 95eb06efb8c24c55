"""A broken configuration file names the file, the key and what is wrong; a good one loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_campaign, load_roster
from config.campaign import default_campaign_path

CAMPAIGN_TEXT = default_campaign_path().read_text(encoding="utf-8")


def test_the_shipped_campaign_is_the_2021_notice() -> None:
    campaign = load_campaign()
    assert str(campaign.deadlines.plan) == "2021-05-06"
    assert str(campaign.deadlines.summary) == "2021-06-18"
    assert [(s.number, str(s.start), str(s.end)) for s in campaign.stages] == [
        (1, "2021-05-10", "2021-05-25"),
        (2, "2021-05-26", "2021-06-05"),
        (3, "2021-06-06", "2021-06-30"),
    ]
    assert campaign.form.modules == ("团结引领", "建家办事", "为民服务", "开放合作", "表彰发布")
    assert campaign.form.audiences == ("科协系统干部", "科技工作者", "海外同行")
    assert campaign.form.plan_text_max_chars == 500
    assert "contact.fax" not in campaign.required_fields()
    assert campaign.timezone == "Asia/Shanghai"


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in CAMPAIGN_TEXT
    path = tmp_path / "campaign.toml"
    path.write_text(CAMPAIGN_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ("plan = 2021-05-06", "plan = 2021-13-06", "", "TOML"),
        ("plan = 2021-05-06", 'plan = "五月六日"', "deadlines.plan", "日期"),
        ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"', "timezone", "未知时区"),
        ("number = 2", "number = 4", "stages", "连续"),
        ("end = 2021-05-25", "end = 2021-05-01", "stages.0", "晚于"),
        ("summary = 2021-06-18\n", "", "deadlines.summary", "缺少"),
        ('optional_fields = ["contact.fax"]', 'optional_fields = ["fax"]', "form.optional_fields", "未知字段"),
        ('audiences = ["面向群体"]\n', "", "form.labels", "缺少"),
        ("short_name = ", "colour = 1\nshort_name = ", "colour", "不认识"),
    ],
)
def test_broken_campaign_names_file_and_key(tmp_path: Path, old: str, new: str, key: str, words: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_campaign(path)
    assert caught.value.path == str(path)
    assert caught.value.key == key
    assert words in caught.value.problem
    assert str(path) in str(caught.value)


def test_missing_campaign_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="无法读取"):
        load_campaign(tmp_path / "nope.toml")


def test_roster_lists_branches_with_addresses_and_aliases() -> None:
    roster = load_roster()
    assert len(roster.branches) >= 10
    geology = roster.find_by_name("地质专委会")
    assert geology is not None and geology.name == "石油地质专业委员会"
    assert roster.find_by_address("GC.Office@example.net") == roster.find_by_name("石油工程专业委员会")
    assert roster.find_by_name("") is None


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("name,kind\n甲,分支机构\n", "表头", "缺少列"),
        ("name,kind,emails,aliases\n,分支机构,a@b.cn,\n", "第2行 name", "不能为空"),
        ("name,kind,emails,aliases\n甲,分支机构,not-an-address,\n", "第2行 emails", "不是有效的邮箱地址"),
        ("name,kind,emails,aliases\n甲,分支机构,a@b.cn,\n乙,分支机构,a@b.cn,\n", "第3行 emails", "已列在第2行「甲」"),
    ],
)
def test_broken_roster_names_file_line_and_column(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_roster(path)
    assert (caught.value.key, caught.value.path) == (key, str(path))
    assert words in caught.value.problem
