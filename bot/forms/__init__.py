"""A plan form read and checked: one file's bytes to its activities, findings and verdict (check.py), the
campaign's form layout, legacy formats converted with LibreOffice (convert.py), and the sandbox that reads a
sender's file in a separate process held to limits (sandbox.py: the work; worker.py: the process).

May import: rules, config, parsers, wording."""
