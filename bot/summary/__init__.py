"""Activity summaries, pure: the records of a summary mail (records.py), which activities it reports (match.py),
and the Summary built from the evidence gathered on it (build.py); what its links point at is parsers.links.

May import: parsers, wording. Never the sandbox: what a file holds is read by bot.intake.evidence."""
