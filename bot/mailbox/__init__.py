"""The Mailbox port and its two adapters: IMAP for a real server, Maildir for a local folder and the demo."""
