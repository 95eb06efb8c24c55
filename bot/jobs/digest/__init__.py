"""The staff's daily digest: the ledger's facts read once (query.py), a pure model of them (model.py; the summary
round's in progress.py), its HTML and text (view.py), the 汇总表 workbook (rollup.py, its 「活动总结」 sheet in
summary_sheet.py, its 「工作人员处理记录」 in staff_sheet.py, the workbooks' look in sheets.py), queued
for each staff address (mail.py).

May import: outgoing, ledger, wording, config, replies."""
