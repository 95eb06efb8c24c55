"""The media export staff run by hand (`subbot export --media DIR`): every stored photo, video and document of
the summaries written as `单位/活动/文件` under readable names (plan.py, names.py: pure), with an index workbook
(index.py), copied and kept in step with the ledger run after run (tree.py).

May import: ledger, wording, config, jobs.digest's workbook look (sheets.py)."""
