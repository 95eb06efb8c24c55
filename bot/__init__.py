"""subbot's bot: the rooms, from the top floor down. Imports run down the floors, never up.

- cli.py, app.py (wiring: settings in, the parts a command needs out), demo.py
- commands/  one module per group of subcommands: parse nothing, print Chinese, return exit codes
- jobs/      the daily jobs: reminders, the staff's digest and its 汇总表, the scheduler
- intake/    a message's walk: poll → keep raw → read → evidence (the sandbox) → decide (pure) → record → answer
- outgoing/  every mail the bot sends: composed and queued once (queue.py), sent from the outbox (SMTP or a folder)
- ledger/    the database: schema, migrations, queries, standings derived from what was submitted; stores, never decides
- forms/     one file to activities and findings: the form check, legacy conversion, the sandbox and its worker
- rules/     findings and every rule: they only inspect (no IO, no sandbox)
- summary/   summary records, link hosts, matching a summary to activities (pure)
- mailbox/   the mailbox port and its IMAP and Maildir adapters
- store/     files on disk: content-addressed raw mail and media, spill folders, locks
- wording.py the Chinese words and date formats, once

Beneath them all: parsers/ (bytes to records), config/ (settings, campaign, roster, Context), replies/ (templates)."""
