"""Every mail the bot sends — receipts, corrections, reminders, digests: composed as MIME (compose.py), queued in
the outbox once (queue.py), sent by SMTP or written to a folder (mailer.py), the outbox flushed (outbox.py).

May import: ledger (the outbox is its replies table), mailbox (a copy in Sent), replies."""
