"""What a form read by OCR (a scan or a phone photo, parsers/scan) needs besides the plan's rules: the
reading said, so the branch checks the values its receipt lists, and each field OCR read with low
confidence named, 「请人工核对」. Warnings, never errors: OCR's doubt is the bot's, not the branch's fault.
That they are there is what keeps a scanned form from being accepted silently: the digest lists every
submission with these findings for a person to check (bot/jobs/digest, reason `read_by_ocr`)."""

from __future__ import annotations

from bot.rules.findings import Finding
from config import Context
from parsers.records import PlanRead

READ_BY_OCR = "read_by_ocr"
OCR_UNCERTAIN = "ocr_uncertain"
OCR_CODES = frozenset({READ_BY_OCR, OCR_UNCERTAIN})


def check_scan(read: PlanRead, ctx: Context) -> tuple[Finding, ...]:
    if read.read_by != "ocr" or not read.activities:
        return ()
    said = (
        "本表为扫描件或照片，内容由系统识别读取，请逐项核对回执中的信息；"
        "如有识别错误，请回复说明，或发送 Word 版（.docx）"
    )
    found = [Finding(None, "file", "warning", READ_BY_OCR, said)]
    labels = ctx.campaign.form.labels
    for index, key in read.uncertain:
        label = labels[key][0] if key in labels else key
        title = read.activities[index].title if 0 <= index < len(read.activities) else ""
        where = f"第{index + 1}项活动" + (f"「{title}」" if title else "")
        message = f"{where}：「{label}」一栏字迹识别不确定，请人工核对"
        found.append(Finding(index, key, "warning", OCR_UNCERTAIN, message))
    return tuple(found)
