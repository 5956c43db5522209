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


@dataclass(repr=False)
class Report:
    """Build an HTML report piece by piece, then :meth:`write` it.

    Examples
    --------
    >>> import tempfile
    >>> report = Report("demo")
    >>> report.heading("Yield")
    >>> report.paragraph("D0 in cm^-2 < 1", note=True)
    >>> report
    Report('demo', 2 parts)
    >>> html_text = report.write(Path(tempfile.mkdtemp()) / "r.html").read_text()
    >>> "<h2>Yield</h2>" in html_text and "cm^-2 &lt; 1" in html_text
    True
    """

    title: str
    parts: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Report({self.title!r}, {len(self.parts)} parts)"

    def heading(self, text: str) -> None:
        """Add a section heading (escaped)."""
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, note: bool = False) -> None:
        """Add a paragraph (escaped); ``note`` sets it in the smaller grey style."""
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, frame: pd.DataFrame, float_format: str = "{:.4g}") -> None:
        """Add a table of ``frame`` (no index; floats with ``float_format``)."""
        self.parts.append(frame.to_html(index=False, float_format=float_format.format, border=0, na_rep=""))

    def image(self, relative_path: str, caption: str) -> None:
        """Add a picture by its path relative to the report, with a caption."""
        self.parts.append(f'<figure><img src="{html.escape(relative_path)}" alt="{html.escape(caption)}">'
                          f"<figcaption class=\"note\">{html.escape(caption)}</figcaption></figure>")

    def write(self, path: str | Path) -> Path:
        """Write the report to ``path`` whole or not at all (see :mod:`yieldkit.outputs`); return the path."""
        path = Path(path)
        body = "\n".join(self.parts)
        with atomic_write(path) as handle:
            handle.write(f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}</title>"
                         f"<style>{_STYLE}</style></head>\n<body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")
        return path
