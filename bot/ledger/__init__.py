"""The ledger: the database (database.py), its tables (schema.py) and migrations, and the queries on it — messages
and replies (queries.py), activity versions (activities.py), what a branch sent before (history.py), where each
branch stands (status.py, derived, never stored twice), the summary round's mails, activities and media
(summaries.py), mailbox chores owed (owed.py). It stores and queries; it never decides.

May import: mailbox's records (MessageRef), summary's records, config."""
