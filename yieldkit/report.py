"""A self-contained HTML report: headings, paragraphs, tables and pictures.

The report is one file beside its pictures (relative links), so a person can
open it in any browser; no server, no JavaScript.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from yieldkit.outputs import atomic_write

__all__ = ["Report"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; }
img { max-width: 100%; border: 1px solid #ddd; }
.note { color: #555; font-size: 0.9em; }
"""


@dataclass
class Report:
    """Build an HTML report piece by piece, then :meth:`write` it."""

    title: str
    parts: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame, float_format: str = "{:.4g}") -> None:
        self.parts.append(frame.to_html(index=False, float_format=float_format.format, border=0, na_rep=""))

    def image(self, relative_path: str, caption: str) -> None:
        self.parts.append(f'<figure><img src="{html.escape(relative_path)}" alt="{html.escape(caption)}">'
                          f"<figcaption class=\"note\">{html.escape(caption)}</figcaption></figure>")

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        body = "\n".join(self.parts)
        with atomic_write(path) as handle:
            handle.write(f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}</title>"
                         f"<style>{_STYLE}</style></head>\n<body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")
        return path
