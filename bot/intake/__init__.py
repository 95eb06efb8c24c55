"""Intake: one message's walk from the mailbox to its answer, always down this list:
poll (what is new) → take (raw bytes kept, the one catch-all per message) → read (bytes to a Mail) →
evidence (every attachment read in the sandbox) → decide (pure: mail + evidence + history → decision) →
record (the decision in the ledger) → answer (the receipt or correction queued). examine.py is the part of the
walk from a Mail to its decision that a poll, `retry` and `inspect` share; runner.py keeps `subbot run` polling.

May import: forms, rules, summary, outgoing, ledger, mailbox, store, wording, config, parsers, replies."""
