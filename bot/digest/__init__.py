"""The staff's daily digest and the 汇总表 roll-up: ledger facts in, a frozen Digest out, then HTML, text, .xlsx."""
