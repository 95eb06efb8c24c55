"""The daily jobs: reminders (who is due, pure; queueing them), the staff's digest and its 汇总表 (digest/), and the
scheduler that runs them at their hours in `subbot run`. Each is idempotent per day: the ledger, not the
scheduler, says what was already queued. Beside them, run by hand: the summaries' media exported as a folder
tree with its index (export/).

May import: bot.app (the wiring, for daily.py), outgoing, ledger, wording, config, replies."""
