"""The CLI's error boundary: exit codes, one-line messages naming options, nothing done on bad input."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from yieldkit.errors import Failure, InputError
from tests.cli_runner import run, one_error_line

YIELDKIT = str(Path(sys.executable).with_name("yieldkit"))




@pytest.fixture(scope="module")
def repair_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "w1.npz"
    assert run("repair", "--design", "small", "--seed", "1", "--d0", "0.1", "-o", str(path)).exit_code == 0
    return path


# --- exit codes of the boundary ------------------------------------------------------------------

def _wrapped_interrupt() -> SystemError:
    """What CPython raises when a signal handler's KeyboardInterrupt meets a compiled call's return."""
    error = SystemError("CPUDispatcher(<function _split_distinct>) returned a result with an exception set")
    error.__cause__ = KeyboardInterrupt()
    return error


@pytest.mark.parametrize(("error", "code", "text"), [
    (InputError("must be > 0, got 0.0", parameter="radial_beta"), 2, "--radial-beta: must be > 0"),
    (InputError("no scheduler at 'garbage'", parameter="scheduler"), 2, "--scheduler: no scheduler at 'garbage'"),
    (InputError("must be in [0, 1]", parameter="kill_probability"), 2, "--kill-probability: must be in [0, 1]"),
    (InputError("must be a positive integer", parameter="n_wafers"), 2, "--wafers: must be a positive integer"),
    (Failure("out of memory building the defect batch of 2048 wafers"), 1,
     "out of memory building the defect batch of 2048 wafers"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), 1, "Connection refused"),
    (OSError(errno.ENOSPC, "No space left on device", "/scratch/x"), 1, "/scratch/x: No space left on device"),
    (MemoryError(), 1, "out of memory"),
    (_wrapped_interrupt(), 130, "interrupted"),  # Ctrl-C inside a numba loop surfaces like this
])
def test_library_errors_become_one_line_with_the_option_and_exit_code(monkeypatch: pytest.MonkeyPatch,
                                                                       error: BaseException, code: int,
                                                                       text: str) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("yieldkit.cli.simulate.run_simulation", fail)
    result = run("simulate", "--design", "small", "--d0", "0.1", "--wafers", "10")
    assert result.exit_code == code, result.output
    line = one_error_line(result)
    assert text in line
    assert "radial_beta" not in line and "kill_probability" not in line and "n_wafers" not in line


def test_sigint_exits_130_with_one_line(tmp_path: Path) -> None:
    process = subprocess.Popen([YIELDKIT, "simulate", "--design", "wse", "--d0", "1", "--wafers", "100000000",
                                "--quiet", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    time.sleep(4.0)  # start-up, then simulating
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.decode() == "Error: interrupted\n" and out == b""


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    process = subprocess.Popen([YIELDKIT, "design", "show", "wse", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=tmp_path)
    process.stdout.close()  # the reader is gone before the first write
    _, err = process.communicate(timeout=60)
    assert err == b"", err.decode()


# --- bad input: exit 2, one line naming the option, nothing done ---------------------------------

@pytest.mark.parametrize(("args", "option"), [
    (["simulate", "--d0", "nan"], "--d0"),
    (["simulate", "--d0", "inf"], "--d0"),
    (["simulate", "--d0", "0.1", "--alpha", "nan"], "--alpha"),
    (["simulate", "--d0", "0.1", "--kill-probability", "2"], "--kill-probability"),
    (["simulate", "--d0", "0.1", "--kill-probability", "nan"], "--kill-probability"),
    (["simulate", "--d0", "0.1", "--cluster-size", "0", "--spatial", "thomas"], "--cluster-size"),
    (["simulate", "--d0", "0.1", "--x0-um", "1e9"], "--x0-um"),
    (["simulate", "--d0", "0.1", "--max-size-um", "0.1"], "--max-size-um"),
    (["simulate", "--d0", "0.1", "--confidence", "nan"], "--confidence"),
    (["sweep", "--d0", "1,nan"], "--d0"),
    (["sweep", "--d0", "1,,2"], "--d0"),
    (["sweep", "--d0", "1", "--spares", "2,,4"], "--spares"),
    (["plan", "--d0", "0.1", "--die-area-mm2", "nan"], "--die-area-mm2"),
    (["plan", "--d0", "0.1", "--unit-area-fraction", "nan"], "--unit-area-fraction"),
    (["plan", "--d0", "0.1", "--target-yield", "nan"], "--target-yield"),
    (["plan", "--d0", "0.1", "--schemes", "none,,row-col"], "--schemes"),
    (["plan", "--d0", "0.1", "--die-units-needed", "200"], "--die-units-needed"),
    (["db", "pareto", "--start-h", "nan"], "--start-h"),
    (["db", "failures", "--end-h", "nan"], "--end-h"),
    (["db", "failures", "--bin-h", "inf"], "--bin-h"),
    (["simulate", "--d0", "0.1", "--radial-beta", "2"], "--radial-beta"),
    (["simulate", "--d0", "0.1", "--spatial", "radial", "--radial-beta", "1e308"], "--radial-beta"),
    (["simulate", "--d0", "0.1", "--scheduler", "garbage"], "--scheduler"),
    (["simulate", "--d0", "0.1", "--spatial", "radial", "--cluster-sigma-mm", "3"], "--cluster-sigma-mm"),
    (["repair", "--design", "small", "--defects", "-", "--d0", "3", "-o", "x.npz"], "--d0"),
    (["design", "show", "small", "--json", "--csv"], "--csv and --json"),
    (["repair", "--design", "small", "--seed", "1", "-o", "-"], "--output"),
    (["repair", "--design", "small", "--seed", "1", "-o", ""], "--output"),
    (["repair", "--design", "small", "--seed", "1", "-o", "a.npz", "--out", "b.npz"], "--output"),
])
def test_bad_input_names_the_option(args: list[str], option: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(*args, input="")
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert option in line
    for parameter in ("d0_per_cm2", "kill_probability", "cluster_mean_size", "max_size_um", "x0_um"):
        assert parameter not in line
    assert list(tmp_path.iterdir()) == []


def test_d0_inf_gives_the_right_reason() -> None:
    line = one_error_line(run("simulate", "--d0", "inf"))
    assert "--d0" in line and "finite" in line and ">= 0" not in line


@pytest.mark.parametrize("option", ["-o", "--plot"])
def test_sweep_checks_output_paths_before_the_work(option: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sweep ran before the output path was checked")

    monkeypatch.setattr("yieldkit.cli.sweep.run_sweep", never)
    suffix = "x.csv" if option == "-o" else "p.png"
    result = run("sweep", "--design", "small", "--d0", "1", option, str(tmp_path / "missing" / suffix))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert ("--output" if option == "-o" else "--plot") in line and "does not exist" in line


@pytest.mark.parametrize("args", [
    ["sweep", "--design", "small", "--d0", "1", "--plot", "x.bmp"],
    ["defects", "show", "MAP", "--plot", "x.bmp"],
    ["firmware", "inspect", "IMAGE", "--plot", "x.bmp"],
])
def test_a_plot_with_an_unknown_extension_is_refused(args: list[str], tmp_path: Path, repair_map: Path) -> None:
    (tmp_path / "w.json").write_text(run("defects", "sample", "--design", "small", "--d0", "1", "--seed", "1").stdout)
    image = tmp_path / "w.fabimg"
    assert run("firmware", "build", str(repair_map), "-o", str(image)).exit_code == 0
    args = [str(tmp_path / "w.json") if a == "MAP" else str(image) if a == "IMAGE" else a for a in args]
    result = run(*args)
    assert result.exit_code == 2 and "--plot" in one_error_line(result) and ".png" in one_error_line(result)


@pytest.mark.parametrize("command", ["defects sample", "firmware build", "firmware keygen", "repair", "sweep"])
def test_an_existing_directory_as_output_is_refused(command: str, tmp_path: Path, repair_map: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    args = {
        "defects sample": ["defects", "sample", "--design", "small", "--d0", "1", "--seed", "1"],
        "firmware build": ["firmware", "build", str(repair_map)],
        "firmware keygen": ["firmware", "keygen"],
        "repair": ["repair", "--design", "small", "--seed", "1"],
        "sweep": ["sweep", "--design", "small", "--d0", "1", "--wafers", "10"],
    }[command]
    result = run(*args, "-o", str(folder) + ("/" if command == "sweep" else ""))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--output" in line and ".tmp" not in line and list(folder.iterdir()) == []


def test_defects_show_of_a_binary_file_or_stdin(tmp_path: Path) -> None:
    binary = tmp_path / "b.json"
    binary.write_bytes(bytes(range(256)) * 4)
    for args, stdin in ((["defects", "show", str(binary)], None), (["defects", "show", "-"], binary.read_bytes())):
        result = run(*args, input=stdin)
        assert result.exit_code == 2 and "not a defect map" in one_error_line(result)


def test_the_old_out_spelling_still_works(tmp_path: Path) -> None:
    out = tmp_path / "w.npz"
    assert run("repair", "--design", "small", "--seed", "2", "--out", str(out)).exit_code == 0
    assert out.is_file()
    assert "--out" not in run("repair", "--help").output.replace("--output", "")


def test_workers_are_capped_at_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}
    real = __import__("yieldkit.montecarlo", fromlist=["simulate"]).simulate

    def spy(*args: object, **kwargs: object) -> object:
        seen.update(kwargs)
        return real(*args, **{**kwargs, "workers": 1})

    monkeypatch.setattr("yieldkit.cli.simulate.run_simulation", spy)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    result = run("simulate", "--design", "small", "--d0", "0.1", "--wafers", "100", "--workers", "1000", "--json")
    assert result.exit_code == 0, result.output
    assert seen["workers"] == 2 and "--workers 1000" in result.stderr and "using 2" in result.stderr


# --- firmware: mismatched files are bad input -----------------------------------------------------

def test_firmware_mismatched_files_exit_2(tmp_path: Path, repair_map: Path) -> None:
    image = tmp_path / "w.fabimg"
    assert run("firmware", "build", str(repair_map), "-o", str(image)).exit_code == 0
    other = tmp_path / "wse.json"
    assert run("defects", "sample", "--design", "wse", "--d0", "0.01", "--seed", "1", "-o", str(other)).exit_code == 0
    result = run("firmware", "verify", str(image), "--defects", str(other))
    assert result.exit_code == 2 and str(other) in one_error_line(result)
    result = run("firmware", "build", str(repair_map), "-o", str(tmp_path / "x.fabimg"), "--design", "wse")
    assert result.exit_code == 2 and "--design" in one_error_line(result)
    assert not (tmp_path / "x.fabimg").exists()


def test_firmware_verify_refuses_a_private_key(tmp_path: Path, repair_map: Path) -> None:
    key = tmp_path / "k.key"
    assert run("firmware", "keygen", "-o", str(key)).exit_code == 0
    image = tmp_path / "s.fabimg"
    assert run("firmware", "build", str(repair_map), "-o", str(image), "--sign-key", str(key)).exit_code == 0
    result = run("firmware", "verify", str(image), "--pubkey", str(key))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--pubkey" in line and "private key" in line


@pytest.mark.parametrize("arrays", [
    {"x": np.arange(3)},
    {"meta": np.array([{"a": 1}], dtype=object)},
], ids=["foreign", "pickled"])
def test_firmware_build_of_a_foreign_npz(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    np.savez(tmp_path / "x.npz", **arrays)
    result = run("firmware", "build", str(tmp_path / "x.npz"), "-o", str(tmp_path / "x.fabimg"))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "not a repair map" in line and "pickle" not in line


def test_output_files_follow_the_umask_and_keys_are_private(tmp_path: Path, repair_map: Path) -> None:
    old = os.umask(0o022)
    try:
        image, key = tmp_path / "w.fabimg", tmp_path / "k.key"
        assert run("firmware", "build", str(repair_map), "-o", str(image)).exit_code == 0
        assert run("firmware", "keygen", "-o", str(key)).exit_code == 0
        defects = tmp_path / "w.json"
        assert run("defects", "sample", "--design", "small", "--d0", "1", "--seed", "1", "-o", str(defects)).exit_code == 0
    finally:
        os.umask(old)
    assert image.stat().st_mode & 0o777 == 0o644
    assert defects.stat().st_mode & 0o777 == 0o644
    assert key.stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_repair_that_fails_is_exit_1_with_one_line(tmp_path: Path) -> None:
    sample = run("defects", "sample", "--design", "small", "--d0", "3", "--seed", "3")
    out = tmp_path / "d.npz"
    result = run("repair", "--design", "small", "--defects", "-", "-o", str(out), "--json", input=sample.stdout)
    assert result.exit_code == 1 and "not repairable" in one_error_line(result)
    assert json.loads(result.stdout)["output"] is None and not out.exists()


def test_demo_checks_its_folder_before_the_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo ran before its folder was checked")

    monkeypatch.setattr("yieldkit.cli.demo.run_yield_demo", never)
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("demo", "--design", "small", "-o", str(blocker / "demo"))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--output" in line and "is not a folder" in line


@pytest.mark.parametrize("quiet", [False, True])
def test_plan_shows_progress_on_a_terminal_unless_quiet(quiet: bool, tmp_path: Path) -> None:
    import pty

    leader, follower = pty.openpty()
    args = [YIELDKIT, "plan", "--design", "small", "--d0", "0.3", "--wafers", "200", "--schemes", "none", "--json"]
    process = subprocess.Popen(args + (["--quiet"] if quiet else []), stdout=subprocess.PIPE, stderr=follower,
                               cwd=tmp_path)
    os.close(follower)
    out, _ = process.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.returncode == 0 and json.loads(out)
    assert (b"sizing" in seen) != quiet, seen
