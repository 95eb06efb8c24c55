"""Real servers for the tests, on 127.0.0.1: a private Dovecot (IMAP) and an aiosmtpd collector (SMTP)."""
