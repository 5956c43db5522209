"""The README is current and its examples run: the CLI reference matches --help, the walkthrough runs in order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from yieldkit.cli import reference

README = Path(__file__).resolve().parents[1] / "README.md"
VENV_BIN = Path(sys.executable).parent


def walkthrough_commands(text: str) -> list[tuple[str, int]]:
    """(command, expected exit code) of every ```bash line of the walkthrough, in order.

    A trailing ``# exit N`` comment states an expected non-zero exit code;
    lines ending in a backslash continue on the next line.
    """
    section = text[text.index("## Walkthrough"):]
    section = section[:section.index("\n## ", 1)]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            command, _, comment = line.partition("  # ")
            if not command.strip():
                continue
            expected = re.fullmatch(r"exit (\d+)", comment.strip())
            commands.append((command.strip(), int(expected.group(1)) if expected else 0))
    return commands


def test_the_cli_reference_is_generated_from_the_current_help() -> None:
    assert reference.update(README, check=True), "README's CLI reference is stale: run python -m yieldkit.cli.reference"


def test_the_reference_check_fails_when_stale(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(README.read_text(encoding="utf-8").replace("Show this message and exit.", "Old help."))
    assert reference.main([str(stale), "--check"]) == 1
    assert reference.main([str(stale)]) == 0 and stale.read_text(encoding="utf-8") == README.read_text(encoding="utf-8")


def test_the_readme_starts_with_the_two_commands_and_links_the_architecture() -> None:
    text = README.read_text(encoding="utf-8")
    first = re.search(r"```bash\n(.*?)```", text, flags=re.S).group(1).splitlines()
    assert len(first) == 2 and first[0].endswith("yieldkit demo") and "pytest" in first[1]
    assert "docs/architecture.md" in text


def test_every_document_the_readme_links_is_in_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    targets = [t for t in re.findall(r"\]\(([^)#\s]+)[^)]*\)", text) if "://" not in t]
    assert targets, "the README links no document"
    missing = [t for t in targets if not (README.parent / t).exists()]
    assert not missing, f"README links files that are not in the repository: {missing}"


@pytest.mark.slow
def test_the_walkthrough_examples_run_in_order_in_an_empty_folder(tmp_path: Path) -> None:
    commands = walkthrough_commands(README.read_text(encoding="utf-8"))
    assert len(commands) > 20 and all(c.split()[0] in ("yieldkit", "YIELDKIT_DB=sqlite:///burnin.db")
                                      for c, _ in commands)
    env = {k: v for k, v in os.environ.items() if k not in ("YIELDKIT_DB", "YIELDKIT_DEBUG")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    for command, expected in commands:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == expected, f"{command}\nexit {done.returncode}\n{done.stderr}"
        if expected == 0:
            assert "Error:" not in done.stderr, f"{command}\n{done.stderr}"
    for produced in ("sweep.csv", "sweep.png", "w17-defects.png", "w17.fabimg", "w17-remap1.fabimg", "w17-image.png",
                     "demo-small/report.html", "events.parquet", "hazard.csv"):
        assert (tmp_path / produced).stat().st_size > 0, produced
