"""Files on disk: raw mail and summaries' media kept by content (content.py), a message's spilled parts while it
is read (spills.py), written whole or not at all and readable by the bot's user only (files.py); the locks that
keep one poller at a time (lock.py).

May import: mailbox's spool naming (to clear what a killed process left), parsers' spill protocol."""
