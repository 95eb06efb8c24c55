"""Authentication-Results (RFC 8601) as real servers write them, and as forgers add them below."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.auth import Check, aligned, check_sender, parse_results, trusted_results
from parsers.message import parse_message

GMAIL = (
    "mx.google.com; dkim=pass header.i=@qq.com header.s=s201512 header.b=AbC+1; "
    "spf=pass (google.com: domain of branch@qq.com designates 1.2.3.4 as permitted sender) "
    "smtp.mailfrom=branch@qq.com; dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=qq.com"
)
MICROSOFT = (
    "spf=pass (sender IP is 40.107.1.1) smtp.mailfrom=contoso.com; dkim=none (message not signed) "
    "header.d=none;dmarc=none action=none header.from=contoso.com;compauth=pass reason=100"
)
FORGED_DMARC = "mx.society.org.cn; dmarc=fail (p=reject dis=none) header.from=qq.com"
RSPAMD_SPF_FAIL = 'mx.society.org.cn 1; spf=fail (mx: domain of "x@qq.com" is not allowed) smtp.mailfrom=x@qq.com'


def test_a_gmail_header_is_read_with_its_properties() -> None:
    results = parse_results(GMAIL)
    assert results.authserv_id == "mx.google.com"
    assert [(c.method, c.result) for c in results.checks] == [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    assert results.checks[0].prop("header.i") == "@qq.com"
    assert results.checks[1].prop("smtp.mailfrom") == "branch@qq.com"


def test_a_microsoft_header_without_an_authserv_id_is_read() -> None:
    results = parse_results(MICROSOFT)
    assert results.authserv_id == ""
    assert [(c.method, c.result) for c in results.checks] == [
        ("spf", "pass"),
        ("dkim", "none"),
        ("dmarc", "none"),
        ("compauth", "pass"),
    ]


def test_none_and_versions_and_quoted_values() -> None:
    assert parse_results("mx.example.org 1; none").checks == ()
    assert parse_results('mx.example.org; dkim/1=fail header.d="qq.com" (comment; with = signs)').checks == (
        Check("dkim", "fail", (("header.d", "qq.com"),)),
    )


def test_results_for_the_from_domain() -> None:
    assert check_sender([GMAIL], "branch@qq.com").result == "pass"
    assert check_sender([FORGED_DMARC], "branch@qq.com").result == "fail"
    assert check_sender([RSPAMD_SPF_FAIL], "x@qq.com").result == "fail"
    assert check_sender([MICROSOFT], "a@contoso.com").result == "pass"  # aligned SPF
    assert check_sender([MICROSOFT], "a@qq.com").result == "unknown"  # SPF passed for another domain
    assert check_sender([], "a@qq.com").result == "unknown"
    assert check_sender(["mx; spf=softfail smtp.mailfrom=qq.com"], "a@qq.com").result == "unknown"


def test_a_forwarded_mail_with_an_intact_aligned_signature_passes() -> None:
    header = "mx.society.org.cn; spf=fail smtp.mailfrom=qq.com; dkim=pass header.d=qq.com"
    assert check_sender([header], "branch@qq.com").result == "pass"


def test_a_pass_for_the_forgers_own_domain_does_not_cover_the_roster_domain() -> None:
    header = "mx.society.org.cn; spf=fail smtp.mailfrom=evil.example; dkim=pass header.d=evil.example"
    assert check_sender([header], "branch@qq.com").result == "fail"


def test_alignment_is_relaxed_but_never_to_a_public_suffix() -> None:
    assert aligned("qq.com", "qq.com") and aligned("mail.qq.com", "qq.com") and aligned("qq.com", "vip.qq.com")
    assert not aligned("com", "qq.com") and not aligned("xqq.com", "qq.com") and not aligned("", "qq.com")


def test_with_no_authserv_id_configured_only_the_topmost_headers_count() -> None:
    forged_below = ["mx.society.org.cn; dmarc=fail header.from=qq.com", "mx.google.com; dmarc=pass"]
    assert [r.authserv_id for r in trusted_results(forged_below)] == ["mx.society.org.cn"]
    assert check_sender(forged_below, "branch@qq.com").result == "fail"
    # A forged pass with the server's own id, under the server's failure: the failure wins.
    same_id = ["mx.society.org.cn; dmarc=fail", "mx.society.org.cn; dmarc=pass"]
    assert len(trusted_results(same_id)) == 2
    assert check_sender(same_id, "branch@qq.com").result == "fail"


def test_a_configured_authserv_id_ignores_everyone_elses_headers() -> None:
    headers = ["mx.google.com; dmarc=pass", "relay.example; dkim=pass header.d=qq.com", FORGED_DMARC]
    check = check_sender(headers, "branch@qq.com", frozenset({"MX.Society.org.cn"}))
    assert (check.result, check.authserv_id) == ("fail", "mx.society.org.cn")
    assert check_sender(headers[:2], "branch@qq.com", frozenset({"mx.society.org.cn"})).result == "unknown"


def _mail(*results: str, sender: str = "branch@qq.com") -> bytes:
    lines = [f"Authentication-Results: {r}" for r in results]
    return "\r\n".join([*lines, f"From: <{sender}>", "Subject: plan", "", "body", ""]).encode()


def test_parse_message_reads_the_servers_result() -> None:
    assert parse_message(_mail(GMAIL)).sender_check.result == "pass"
    assert parse_message(_mail(FORGED_DMARC)).sender_check.result == "fail"
    assert parse_message(_mail()).sender_check.result == "unknown"
    folded = "mx.society.org.cn;\r\n\tdmarc=fail\r\n (p=reject) header.from=qq.com"
    assert parse_message(_mail(folded)).sender_check.result == "fail"
    trusted = frozenset({"mx.society.org.cn"})
    assert parse_message(_mail("mx.google.com; dmarc=pass", FORGED_DMARC), authserv_ids=trusted).sender_check.reason


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.text(max_size=60))
def test_any_header_text_gives_a_result(value: str, sender: str) -> None:
    check = check_sender([value, value], sender)
    assert check.result in ("pass", "fail", "unknown")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["mx", ";", " ", "=", "dkim", "pass", "fail", "dmarc", "(", ")", '"', "\\", "header.d", "qq.com", "/1"]
        ),
        max_size=40,
    )
)
def test_token_soup_gives_a_result(tokens: list[str]) -> None:
    assert check_sender(["".join(tokens)], "a@qq.com").result in ("pass", "fail", "unknown")
