"""Rules: each a small function that only inspects (an activity, a summary, a sender) and returns findings as
data; no IO, no sandbox, no ledger. The plan's rules are listed in `plan.py`, the summary's in `summary.py`.

May import: config, parsers' records, bot.summary's records, bot.wording."""
