"""A plan's correction brings the branch's own .docx back with its findings on it: mails with golden forms go
through `subbot poll` on a Maildir, and each reply in the outbox is read back as a branch's client would read
it. The annotated attachment's comments are the findings' messages, each on its shaded cell in the finding's
activity table, and LibreOffice opens it; a form that cannot be annotated, a broken file and an accepted form
bring no such attachment, and nothing fails."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import io
import logging
import os
import zipfile
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from annotated_files import anchors, by_message, pdf_notes, pdfs_with_notes

from bot.cli import main
from bot.demo import Sample, seed, write_message
from bot.forms import sandbox
from bot.forms.check import CheckResult, check_form
from bot.forms.worker import Limits
from bot.intake import evidence
from bot.intake.evidence import annotated_copies, check_forms
from config import Context
from parsers.annotate import ERROR_FILL, SUFFIX
from parsers.message import parse_message
from parsers.records import FormLayout

FORMS = Path(__file__).parent / "fixtures" / "forms"
NOW = "2021-05-09T09:00"
ZONE = dt.timezone(dt.timedelta(hours=8))
ARRIVED = dt.datetime(2021, 5, 4, 10, 0, tzinfo=ZONE)  # before the plan deadline
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BROKEN = b"PK\x03\x04" + bytes(range(256)) * 4  # a zip's first bytes, then nothing a zip reader takes


def _foreign_comments_part() -> bytes:
    """faulty-contact.docx with a comments part whose root is no w:comments: the form reads as before (the
    reader never opens that part), but a comment cannot be added to it."""
    with zipfile.ZipFile(io.BytesIO((FORMS / "faulty-contact.docx").read_bytes())) as package:
        members = {info.filename: package.read(info) for info in package.infolist()}
    members["word/comments.xml"] = f'<w:document xmlns:w="{W}"><w:body/></w:document>'.encode()
    comments = "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"
    types = members["[Content_Types].xml"].decode()
    members["[Content_Types].xml"] = types.replace(
        "</Types>", f'<Override PartName="/word/comments.xml" ContentType="{comments}"/></Types>'
    ).encode()
    rels = members["word/_rels/document.xml.rels"].decode()
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
    members["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>", f'<Relationship Id="rId99" Type="{kind}" Target="comments.xml"/></Relationships>'
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in members.items():
            package.writestr(name, data)
    return out.getvalue()


def _golden(name: str) -> tuple[str, bytes]:
    return name, (FORMS / name).read_bytes()


# case -> (sender, address, the attached files): the case is the Message-ID's local part.
CASES: dict[str, tuple[str, str, tuple[tuple[str, bytes], ...]]] = {
    "faulty": ("四川省石油学会", "scsyxh@example.org", (_golden("faulty-dates.docx"),)),
    "faulty-and-right": (
        "北京石油学会",
        "bjsyxh@example.com",
        (_golden("faulty-contact.docx"), _golden("official-standard.docx")),
    ),
    "foreign-comments": ("石油工程专委会", "gongcheng@example.com", (("方案.docx", _foreign_comments_part()),)),
    "broken": ("新疆石油学会", "xjsyxh@example.com", (("筹备方案.docx", BROKEN),)),
    "accepted-with-warnings": ("地质专委会", "dizhi.zwh@example.com", (_golden("faulty-soft.docx"),)),
}


@dataclass(frozen=True)
class Reply:
    message: EmailMessage

    @property
    def kind(self) -> str:
        return "correction" if "请修改后重新发送" in str(self.message["Subject"]) else "ack"

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())

    def files(self) -> dict[str, bytes]:
        found = {}
        for part in self.message.iter_attachments():
            data = part.get_content()
            assert isinstance(data, bytes)
            found[str(part.get_filename())] = data
        return found


def _poll(folder: Path, cases: dict[str, tuple[str, str, tuple[tuple[str, bytes], ...]]]) -> dict[str, Reply]:
    """One `subbot poll` of a Maildir holding `cases`; the replies in the outbox, by case."""
    settings = seed(folder)
    inbox = folder / "inbox"
    for demo in (inbox / "new").iterdir():
        demo.unlink()
    for number, (case, (sender, address, files)) in enumerate(cases.items()):
        sample = Sample(sender, address, f"筹备方案（{case}）", ARRIVED, "方案见附件。", tuple((n, d, DOCX) for n, d in files))
        raw = write_message(sample).replace(b"Message-ID: <", f"Message-ID: <{case}.".encode(), 1)
        path = inbox / "new" / f"{int(ARRIVED.timestamp())}.{number}.annotated"
        path.write_bytes(raw)
        os.utime(path, (ARRIVED.timestamp(), ARRIVED.timestamp()))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--settings", str(settings), "--now", NOW, "poll", "--reply-backlog"]) == 0
    replies = {}
    for path in (folder / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        replies[str(message["In-Reply-To"]).strip().strip("<>").partition(".")[0]] = Reply(message)
    return replies


@pytest.fixture(scope="module")
def replies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reply]:
    found = _poll(tmp_path_factory.mktemp("annotated"), CASES)
    assert sorted(found) == sorted(CASES)
    return found


def _findings(name: str, ctx: Context) -> CheckResult:
    return check_form((FORMS / name).read_bytes(), name, ctx, None)


@pytest.mark.parametrize(("case", "form"), [("faulty", "faulty-dates.docx"), ("faulty-and-right", "faulty-contact.docx")])
def test_the_correction_brings_the_form_with_each_finding_commented_on_its_shaded_cell(
    case: str, form: str, replies: dict[str, Reply], ctx: Context, layout: FormLayout
) -> None:
    reply = replies[case]
    annotated = f"{Path(form).stem}{SUFFIX}.docx"
    assert reply.kind == "correction"
    assert list(reply.files()) == [annotated]  # the accepted form beside it is not sent back
    data = reply.files()[annotated]
    findings = _findings(form, ctx).findings
    comments = docx.Document(io.BytesIO(data)).comments
    assert sorted(c.text for c in comments) == sorted(f.message for f in findings)
    for comment in comments:
        assert comment.author == ctx.campaign.office.name
        assert comment.timestamp == dt.datetime(2021, 5, 9, 1, 0, tzinfo=dt.UTC)  # the reply's time, --now
    placed = by_message(anchors(data, layout))
    for finding in findings:
        anchor = placed[finding.message]
        assert (anchor.table, anchor.fill) == (finding.activity, ERROR_FILL), finding
    assert f"附件「{annotated}」是您发来的文件，以上各点已在文件中用批注标出" in reply.text
    # The form reads as the one sent: the branch may correct this copy and send it back.
    again = check_form(data, annotated, ctx, None)
    assert sorted(f.message for f in again.findings) == sorted(f.message for f in findings)


def test_libreoffice_opens_the_attached_forms_with_every_comment(
    replies: dict[str, Reply], ctx: Context, tmp_path: Path
) -> None:
    written = {}
    for case, form in (("faulty", "faulty-dates.docx"), ("faulty-and-right", "faulty-contact.docx")):
        ((name, data),) = replies[case].files().items()
        path = tmp_path / name
        path.write_bytes(data)
        written[path] = sorted(f.message for f in _findings(form, ctx).findings)
    out = pdfs_with_notes(list(written), tmp_path)
    for path, messages in written.items():
        assert sorted(pdf_notes(out / path.with_suffix(".pdf").name)) == messages


def test_a_form_that_cannot_be_annotated_is_corrected_without_it(replies: dict[str, Reply], ctx: Context) -> None:
    reply = replies["foreign-comments"]
    findings = check_form(_foreign_comments_part(), "方案.docx", ctx, None).findings
    assert [f.field for f in findings] == ["contact.mobile", "contact.email", "contact.office_phone"]
    assert reply.kind == "correction" and reply.files() == {}
    for finding in findings:
        assert finding.message in reply.text
    assert "批注" not in reply.text


def test_a_broken_file_is_corrected_without_an_attachment(replies: dict[str, Reply]) -> None:
    reply = replies["broken"]
    assert reply.kind == "correction" and reply.files() == {}
    assert "批注" not in reply.text


def test_an_accepted_form_brings_nothing_back_even_with_warnings(replies: dict[str, Reply], ctx: Context) -> None:
    assert _findings("faulty-soft.docx", ctx).verdict == "accepted"
    reply = replies["accepted-with-warnings"]
    assert reply.kind == "ack" and reply.files() == {}


def test_a_worker_out_of_time_leaves_the_file_out_and_says_why_without_personal_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sandbox, "ANNOTATE_LIMITS", Limits(wall_seconds=0.005))
    caplog.set_level(logging.WARNING)

    replies = _poll(tmp_path, {"faulty": CASES["faulty"]})

    reply = replies["faulty"]
    assert reply.kind == "correction" and reply.files() == {}
    assert "批注" not in reply.text
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("exhausted the sandbox (time)" in m for m in warned)
    assert any("could not be annotated" in m for m in warned)
    for message in warned:
        assert "scsyxh" not in message and "faulty-dates" not in message


def test_only_a_docx_as_sent_is_marked(ctx: Context) -> None:
    """A .doc is read from a conversion that is not kept: the correction lists its findings, marks nothing."""
    result = _findings("faulty-dates.docx", ctx)
    assert len(sandbox.cell_marks(result)) == len(result.findings)
    converted = CheckResult(result.file, replace(result.read, kind="doc"), result.findings)
    assert sandbox.cell_marks(converted) == ()


def _mail_of(*files: tuple[str, bytes]) -> bytes:
    return write_message(Sample("北京石油学会", "bjsyxh@example.com", "方案", ARRIVED, "见附件", tuple((n, d, DOCX) for n, d in files)))


def test_forms_of_one_copy_name_come_back_told_apart_and_within_the_caps(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    faulty = (FORMS / "faulty-contact.docx").read_bytes()
    # The mail's reader tells apart two attachments of one name; one name in two cases is the same copy's name.
    mail = parse_message(_mail_of(("方案.docx", faulty), ("方案.DOCX", faulty), ("other.docx", faulty)))
    forms = check_forms(mail, ctx, None)
    when = dt.datetime(2021, 5, 9, 1, 0, tzinfo=dt.UTC)

    names = [f.name for f in annotated_copies(forms, ctx, when)]
    assert names == [f"方案{SUFFIX}.docx", f"方案{SUFFIX}（2）.docx", f"other{SUFFIX}.docx"]

    monkeypatch.setattr(evidence, "MAX_ANNOTATED", 2)
    assert len(annotated_copies(forms, ctx, when)) == 2
    # Room for one form and a bit: the second is not annotated, the third fits no better.
    monkeypatch.setattr(evidence, "MAX_ANNOTATED_BYTES", len(faulty) * 3 // 2)
    assert [f.name for f in annotated_copies(forms, ctx, when)] == [f"方案{SUFFIX}.docx"]
