"""A small XML reader that keeps the line of every element (for ``FILE:LINE`` errors).

The standard library's expat parser does the parsing (well-formedness,
entities, CDATA); namespaces are reduced to local names, since the SEMI map
readers accept a map whatever namespace (or none) its writer used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from xml.parsers import expat

from yieldkit.errors import InputError

__all__ = ["Node", "parse"]


@dataclass
class Node:
    """An element: local tag name, attributes (local names), children, text, line."""

    tag: str
    attrib: dict[str, str]
    line: int
    children: list["Node"] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> "Node | None":
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list["Node"]:
        return [c for c in self.children if c.tag == tag]


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def parse(path: str | os.PathLike[str]) -> Node:
    """Parse ``path``; raise InputError ``FILE:LINE: ...`` when it is not well-formed XML."""
    source = os.fspath(path)
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[Node] = []
    text: list[list[str]] = []
    root: list[Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = Node(_local(tag), {_local(k): v for k, v in attrs.items()}, parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        text.append([])

    def end(tag: str) -> None:
        node = stack.pop()
        node.text = "".join(text.pop())

    def chars(data: str) -> None:
        if text:
            text[-1].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        with open(source, "rb") as handle:
            parser.ParseFile(handle)
    except OSError as exc:
        raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from None
    except expat.ExpatError as exc:
        raise InputError(f"{source}:{exc.lineno}: expected well-formed XML ({expat.ErrorString(exc.code)}, "
                         f"column {exc.offset + 1})") from None
    return root[0]
