"""`examine`: from a parsed mail to the decision on it, the one path a poll, `retry` and `inspect` all walk:
forms checked, the mail routed, the branch's history asked for (for a summary, or a mail that brings a document),
the summary's files read, decided. `history_of` is the ledger's answer for a routed mail (inspect may give an empty one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bot.intake.decide import Decision, Routing, decide, named_branch, route
from bot.intake.evidence import check_forms, gather_summary
from bot.intake.services import Services
from bot.summary.records import History
from parsers.message import Mail

HistoryOf = Callable[[Mail, Routing], History]
TITLE_CHARS = 200  # a summary document's opening, where its title and its branch's name are


def examine(
    mail: Mail,
    services: Services,
    arrived: dt.datetime,
    history_of: HistoryOf,
    replies_today: int,
    release: Release | None = None,
    learned: Mapping[str, str] | None = None,
) -> Decision:
    """`release`: staff let the mail go on as an ordinary one (and may have said whose it is); `learned`: the
    addresses the ledger learned for roster branches."""
    ctx = services.ctx
    forms = check_forms(mail, ctx, services.convert)
    routing = route(mail, forms, ctx, arrived, release.branch if release else None, learned)
    released = release is not None
    summary = mail.kind == "submission" and routing.deliverable == "summary"
    if mail.kind != "submission" or not (summary or forms):
        return decide(mail, forms, routing, ctx, arrived, replies_today, services.reply_cap, released=released)
    evidence = gather_summary(mail, forms) if summary else None
    if evidence is not None and routing.branch is None:  # the summary's own title may name its branch
        titles = [document.text[:TITLE_CHARS] for document in evidence.documents.values()]
        if branch := named_branch(titles, ctx):
            routing = replace(routing, branch=branch, matched_by="named")
    history = history_of(mail, routing)
    cap = services.reply_cap
    return decide(mail, forms, routing, ctx, arrived, replies_today, cap, evidence, history, released)


@dataclass(frozen=True)
class Release:
    """Staff's word on a held mail taken in again: go on as an ordinary mail, credited to `branch` if given."""

    branch: str | None = None


def no_history(mail: Mail, routing: Routing) -> History:
    """For a mail examined with no ledger at hand."""
    return History()
