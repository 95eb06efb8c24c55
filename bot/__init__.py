"""The bot: wiring, CLI, rules, mailbox, ledger and scheduler. Nothing imports bot."""
