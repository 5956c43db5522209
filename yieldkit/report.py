"""A self-contained HTML report: headings, paragraphs, tables and pictures in one file.

Pictures are embedded as ``data:image/png;base64`` URIs, so the report is a
single file with no external link: it opens in any browser, with no server,
no JavaScript and nothing beside it. :meth:`Report.figure` takes a
matplotlib Figure directly; :meth:`Report.image` takes a picture file
(relative paths resolve against the report's folder when it is written).
"""

from __future__ import annotations

import base64
import html
import io
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from yieldkit.errors import InputError
from yieldkit.outputs import atomic_write

__all__ = ["Report", "figure_png"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; padding: 0 1em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; }
figure { margin: 1em 0 2em; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
.note { color: #555; font-size: 0.9em; }
"""


def figure_png(fig, dpi: int = 110) -> bytes:
    """PNG bytes of a matplotlib Figure (tight bounding box, white background)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass(repr=False)
class Report:
    """Build an HTML report piece by piece, then :meth:`write` it as one self-contained file.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> report = Report("demo")
    >>> report.heading("Yield")
    >>> report.paragraph("D0 in cm^-2 < 1", note=True)
    >>> fig = Figure(figsize=(2, 2)); _ = fig.add_subplot().plot([0, 1])
    >>> report.figure(fig, "a line")
    >>> report
    Report('demo', 3 parts)
    >>> html_text = report.write(Path(tempfile.mkdtemp()) / "r.html").read_text()
    >>> "<h2>Yield</h2>" in html_text and "cm^-2 &lt; 1" in html_text and 'src="data:image/png;base64,' in html_text
    True
    """

    title: str
    parts: list[str | tuple[str, str, str]] = field(default_factory=list)

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

    def image(self, path: str | Path, caption: str) -> None:
        """Add a picture file with a caption; it is read and embedded when the report is written.

        A relative ``path`` is taken relative to the folder the report is written to.
        """
        self.parts.append(("file", str(path), caption))

    def figure(self, fig, caption: str, dpi: int = 110) -> None:
        """Add a matplotlib Figure (rendered to PNG now) with a caption."""
        self.parts.append(_figure_html(_data_uri(figure_png(fig, dpi), "image/png"), caption))

    def _render(self, folder: Path) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, tuple):
                _, name, caption = part
                path = Path(name) if Path(name).is_absolute() else folder / name
                try:
                    data = path.read_bytes()
                except OSError as err:
                    raise InputError(f"report picture {name!r} cannot be read: {err.strerror}") from None
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                out.append(_figure_html(_data_uri(data, mime), caption))
            else:
                out.append(part)
        return "\n".join(out)

    def write(self, path: str | Path) -> Path:
        """Write the report to ``path`` whole or not at all (see :mod:`yieldkit.outputs`); return the path."""
        path = Path(path)
        body = self._render(path.parent)
        with atomic_write(path) as handle:
            handle.write(f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}</title>"
                         f"<style>{_STYLE}</style></head>\n<body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")
        return path


def _figure_html(uri: str, caption: str) -> str:
    text = html.escape(caption)
    return f'<figure><img src="{uri}" alt="{text}"><figcaption class="note">{text}</figcaption></figure>'
