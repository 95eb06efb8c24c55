"""The mail of a deadline day, made for the benchmarks: plan mails with a .docx, .pdf, .doc or .wps form, and
summary mails with a summary document and photos, each from a roster branch, each with a Message-ID of its own."""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import docx
from PIL import Image

from bot.forms.layout import form_layout
from config import load_campaign, load_roster
from parsers.form_writer import FormEntry, write_form

BEIJING = dt.timezone(dt.timedelta(hours=8))
SENT = dt.datetime(2021, 5, 5, 10, 0, tzinfo=BEIJING)  # the day before the plan deadline
WORDS = "科学家精神宣讲报告会石油地质科普展览青年论坛志愿服务"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Forms in the mail as it comes: a kind of plan mail, its file's extension and content type.
PLAN_FILES = {
    "docx": (".docx", DOCX),
    "pdf": (".pdf", "application/pdf"),
    "doc": (".doc", "application/msword"),
    "wps": (".wps", "application/vnd.ms-works"),  # WPS Office's .wps: the Word 97 binary under its own name
}


@dataclass(frozen=True)
class Mix:
    """Shares of each kind of mail, out of 1."""

    docx_plans: float = 1.0
    pdf_plans: float = 0.0
    doc_plans: float = 0.0
    wps_plans: float = 0.0
    summaries: float = 0.0

    def plans(self) -> dict[str, float]:
        return {"docx": self.docx_plans, "pdf": self.pdf_plans, "doc": self.doc_plans, "wps": self.wps_plans}

    def label(self) -> str:
        parts = [(share, f".{kind} plans") for kind, share in self.plans().items()] + [(self.summaries, "summaries")]
        return ", ".join(f"{share:.0%} {name}" for share, name in parts if share)


DOCX_ONLY = Mix()
# About 7% of a deadline day's plans came as .doc or .wps (the 2021 campaign's mail).
DEADLINE_DAY = Mix(docx_plans=0.53, pdf_plans=0.2, doc_plans=0.05, wps_plans=0.02, summaries=0.2)


class Workload:
    """Makes mails; forms and photos are made once and reused, so making 10,000 mails takes seconds."""

    def __init__(self, seed: int = 2021, pdf_forms: int = 10, photos: int = 30, doc_forms: int = 10) -> None:
        campaign = load_campaign()
        self._rng = random.Random(seed)
        self._layout = form_layout(campaign)
        self._branches = [(b.name, b.emails[0]) for b in load_roster().branches if b.emails]
        docx_forms = [self._form() for _ in range(50)]
        doc = resave(docx_forms[:doc_forms], "doc")
        self._forms = {"docx": docx_forms, "pdf": resave(docx_forms[:pdf_forms], "pdf"), "doc": doc, "wps": doc}
        self._photos = [photo(self._rng, n) for n in range(photos)]

    @property
    def has_pdf(self) -> bool:
        return bool(self._forms["pdf"])

    def mails(self, count: int, mix: Mix) -> list[bytes]:
        kinds = [kind for kind, share in mix.plans().items() for _ in range(round(count * share))]
        kinds += ["summary"] * (count - len(kinds))
        self._rng.shuffle(kinds)
        return [self.mail(kind, n) for n, kind in enumerate(kinds)]

    def mail(self, kind: str, number: int) -> bytes:
        name, address = self._branches[number % len(self._branches)]
        if kind in PLAN_FILES:
            kind = kind if self._forms[kind] else "docx"  # no LibreOffice to make them: .docx instead
            extension, content_type = PLAN_FILES[kind]
            files = [(f"{name}-筹备方案{extension}", self._rng.choice(self._forms[kind]), content_type)]
            subject = "报送全国科技工作者日活动筹备方案" if kind == "docx" else f"报送活动筹备方案（{kind.upper()}）"
        else:
            pictures = self._rng.sample(self._photos, 4)
            files = [(f"{name}-活动总结.docx", summary(self._rng), DOCX)]
            files += [(f"现场照片{n + 1}.jpg", data, "image/jpeg") for n, data in enumerate(pictures)]
            subject = "报送全国科技工作者日活动总结"
        return message(name, address, subject, files)

    def _form(self) -> bytes:
        return write_form(self._layout, [entry(self._rng) for _ in range(self._rng.randint(1, 3))])


def message(name: str, address: str, subject: str, files: list[tuple[str, bytes, str]]) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"{name} <{address}>"
    mail["To"] = "中国石油学会科普咨询部 <kepu@example.org>"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(SENT)
    mail["Message-ID"] = make_msgid(domain=address.rpartition("@")[2])
    mail.set_content("老师好，附件是我会的材料，请查收。")
    for filename, data, content_type in files:
        main, _, sub = content_type.partition("/")
        mail.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return mail.as_bytes()


def entry(rng: random.Random) -> FormEntry:
    def pick(n: int) -> str:
        return "".join(rng.choice(WORDS) for _ in range(n))

    return FormEntry(
        cells={
            "organiser": "北京石油学会",
            "title": pick(10),
            "co_organiser": pick(8),
            "time": "第二阶段；5月28日—5月30日",
            "venue": pick(6),
            "scale": f"约{rng.randint(20, 2000)}人",
            "contact.name": pick(3),
            "contact.office_phone": "010-62067126",
            "contact.mobile": "15011205685",
            "contact.email": "bench@example.com",
            "address": pick(12),
        },
        modules=("团结引领", "为民服务"),
        audiences=("科技工作者",),
        plan_text="\n".join(pick(80) for _ in range(5)),
    )


def summary(rng: random.Random) -> bytes:
    document = docx.Document()
    document.add_heading("全国科技工作者日活动总结", level=1)
    for _ in range(4):
        document.add_paragraph("".join(rng.choice(WORDS) for _ in range(200)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def photo(rng: random.Random, number: int, side: int = 800) -> bytes:
    """A camera-like JPEG (about 200 KB) with an EXIF date in the campaign."""
    base = Image.effect_noise((side, side * 3 // 4), 60 + number).convert("RGB")
    exif = Image.Exif()
    taken = dt.datetime(2021, 5, 28, 9, 0) + dt.timedelta(minutes=rng.randint(0, 600))
    exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    base.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def resave(files: list[bytes], target: str) -> list[bytes]:
    """The forms re-saved by LibreOffice as branches do: printed to PDF (`pdf`) or saved as Word 97 (`doc`,
    which WPS Office's .wps is too); none when soffice is missing."""
    soffice = shutil.which("soffice")
    if not soffice or not files:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for number, data in enumerate(files):
            (folder / f"{number:03d}.docx").write_bytes(data)
        profile = (folder / "profile").as_uri()
        docs = sorted(str(p) for p in folder.glob("*.docx"))
        out = folder / "out"
        convert_to = {"pdf": "pdf", "doc": "doc:MS Word 97"}[target]
        command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", convert_to]
        subprocess.run([*command, "--outdir", str(out), *docs], capture_output=True, check=True, timeout=600)
        return [p.read_bytes() for p in sorted(out.glob(f"*.{target}"))]
