"""The mailbox: a narrow port (port.py) with two adapters, IMAP (imap.py, idle.py) and Maildir (maildir.py); a big
message copied to a spool file rather than held (spool.py); the signal-safe stop the waits listen to (stop.py).

May import: nothing of the bot's other rooms."""
