"""Runs a command as its child and writes the child's CPU seconds and peak RSS (wait4) to a file, as GNU
`time -v` does. Needed because a child forked straight from the benchmark starts with the benchmark's own
memory, which Linux counts in its peak even after exec.

    python bench/launch.py REPORT.json COMMAND [ARG...]"""

import json
import os
import sys


def main(report: str, command: list[str]) -> int:
    pid = os.fork()
    if pid == 0:
        os.execvp(command[0], command)
    _, status, usage = os.wait4(pid, 0)
    with open(report, "w", encoding="ascii") as out:
        json.dump({"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}, out)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
