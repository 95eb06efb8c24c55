"""The ledger: every message, version, finding and reply, in one database."""
