"""The one error a broken configuration file raises: it names the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A configuration file that cannot be used as it is."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"配置文件有误 {where}：{problem}")
