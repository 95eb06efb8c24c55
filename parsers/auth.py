"""Whether the receiving server vouches for the From address: its Authentication-Results (RFC 8601).

Anyone can write an Authentication-Results header into a message, so only the receiving server's are
read: those whose authserv-id is configured as trusted, or, with none configured, the topmost header
(servers prepend theirs, so the sender's forgeries sit below it) and any directly under it with the
same authserv-id. Among those, any failure outweighs any pass: a forger can add passes, never remove
the server's failure.

Hand-written rather than with `authres`: that library raises on headers real servers write (Microsoft
365's have no authserv-id and carry `action=none`), and a header it cannot parse would count as no
result at all. This reader takes `method=result` and `ptype.property=value` pairs and skips the rest."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

AuthResult = Literal["pass", "fail", "unknown"]

_PAIR = re.compile(r'([A-Za-z0-9_.\-/]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]*)')
_MAX_VALUE = 20_000  # a real header is a few hundred characters; this keeps the scan linear and short
_MAX_HEADERS = 50


@dataclass(frozen=True)
class Check:
    """One resinfo: `dkim=pass header.d=qq.com` is Check("dkim", "pass", (("header.d", "qq.com"),))."""

    method: str  # lower-cased, without its version
    result: str  # lower-cased
    properties: tuple[tuple[str, str], ...] = ()

    def prop(self, name: str) -> str:
        return next((value for key, value in self.properties if key == name), "")


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str  # lower-cased; "" when the header names none (Microsoft 365)
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class SenderCheck:
    """What the trusted headers say of the From address, and why, in words for logs and staff."""

    result: AuthResult
    reason: str
    authserv_id: str = ""
    # The methods that passed for the From's own domain ("dmarc", "dkim", "spf"), whatever the result says:
    # a caller that trusts only some methods (staff commands: DMARC or DKIM) asks which.
    methods: frozenset[str] = frozenset()


NO_RESULTS = SenderCheck("unknown", "no Authentication-Results from the receiving server")


def parse_results(value: str) -> AuthResults:
    """One header's value; never raises. Comments are dropped, unknown pieces skipped."""
    pieces = _split(_uncomment(value[:_MAX_VALUE]))
    head = pieces[0].strip()
    authserv_id = ""
    if head and not _PAIR.match(head):
        authserv_id = head.split()[0].lower()
        pieces = pieces[1:]
    checks = []
    for piece in pieces:
        pairs = [(key.lower(), _unquote(val)) for key, val in _PAIR.findall(piece)]
        if not pairs or "." in pairs[0][0]:
            continue  # "none", or a piece without a method
        method, result = pairs[0]
        properties = tuple((key, val) for key, val in pairs[1:] if "." in key)
        checks.append(Check(method.split("/", 1)[0], result.lower(), properties))
    return AuthResults(authserv_id, tuple(checks))


def trusted_results(values: Sequence[str], authserv_ids: frozenset[str] = frozenset()) -> tuple[AuthResults, ...]:
    """The headers the receiving server wrote, of `values` in the message's order (topmost first)."""
    parsed = [parse_results(v) for v in values[:_MAX_HEADERS]]
    if authserv_ids:
        wanted = {i.lower() for i in authserv_ids}
        return tuple(r for r in parsed if r.authserv_id in wanted)
    top: list[AuthResults] = []
    for results in parsed:
        if top and results.authserv_id != top[0].authserv_id:
            break
        top.append(results)
    return tuple(top)


def check_sender(values: Sequence[str], sender: str, authserv_ids: frozenset[str] = frozenset()) -> SenderCheck:
    """Pass, fail or unknown for the From address `sender`, given the message's Authentication-Results."""
    trusted = trusted_results(values, authserv_ids)
    if not trusted:
        return NO_RESULTS
    server = trusted[0].authserv_id
    checks = [check for results in trusted for check in results.checks]
    domain = sender.rpartition("@")[2].lower()
    methods = frozenset(c.method for c in checks if c.result == "pass" and _vouches_for(c, domain))
    if failed := [c for c in checks if c.method == "dmarc" and c.result == "fail"]:
        return SenderCheck("fail", f"dmarc=fail for {failed[0].prop('header.from') or domain}", server, methods)
    if any(c.method == "dmarc" and c.result == "pass" for c in checks):
        return SenderCheck("pass", "dmarc=pass", server, methods)
    for check in checks:
        if check.result == "pass" and domain and aligned(_domain_of(check), domain):
            return SenderCheck("pass", f"{check.method}=pass for {_domain_of(check)}", server, methods)
    if failed := [c for c in checks if c.method in ("dkim", "spf") and c.result == "fail"]:
        return SenderCheck("fail", f"{failed[0].method}=fail and nothing passed for {domain}", server, methods)
    return SenderCheck("unknown", "no decisive result for the From domain", server, methods)


def _vouches_for(check: Check, domain: str) -> bool:
    """Whether a pass is for `domain`: DMARC is always about the From domain (its header.from, when
    written, must be it); a DKIM or SPF pass only when its domain is aligned with it."""
    if not domain:
        return False
    if check.method == "dmarc":
        written = check.prop("header.from")
        return not written or written.strip(".") == domain.strip(".")
    return check.method in ("dkim", "spf") and aligned(_domain_of(check), domain)

def aligned(checked: str, domain: str) -> bool:
    """Relaxed alignment without a public-suffix list: the same domain, or one a sub-domain of the other.

    A DKIM or SPF pass proves control of `checked` in DNS, which no one has for a public suffix."""
    checked, domain = checked.lower().strip("."), domain.lower().strip(".")
    if not checked or "." not in checked or "." not in domain:
        return False
    return checked == domain or domain.endswith("." + checked) or checked.endswith("." + domain)


def _domain_of(check: Check) -> str:
    """The domain a DKIM or SPF pass is for; '' for other methods."""
    if check.method == "dkim":
        return check.prop("header.d") or check.prop("header.i").rpartition("@")[2]
    if check.method == "spf":
        return (check.prop("smtp.mailfrom") or check.prop("smtp.helo")).rpartition("@")[2]
    return ""


def _uncomment(text: str) -> str:
    """The text without (comments), which nest, outside "quoted strings"."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"' and not depth:
            quoted = not quoted
        elif ch == "(" and not quoted:
            depth += 1
            continue
        elif ch == ")" and depth and not quoted:
            depth -= 1
            continue
        if not depth:
            out.append(ch)
    return "".join(out)


def _split(text: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return pieces


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value.strip().lower()
