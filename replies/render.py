"""Render a reply from its templates: plain text plus an HTML alternative, in Chinese.
Templates are files named after outcomes; a folder given in the settings overrides the shipped ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, override: Path | None = None) -> None:
        loaders = [FileSystemLoader(str(override))] if override else []
        self._env = Environment(
            loader=ChoiceLoader([*loaders, PackageLoader("replies", "templates")]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, name: str, context: Mapping[str, Any]) -> Rendered:
        """`name.subject.txt`, `name.txt` and `name.html`, each with the same context."""
        subject = self._env.get_template(f"{name}.subject.txt").render(context)
        return Rendered(
            subject=" ".join(subject.split()),
            text=self._env.get_template(f"{name}.txt").render(context),
            html=self._env.get_template(f"{name}.html").render(context),
        )
