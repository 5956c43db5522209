"""The self-contained HTML report, rendered in headless Chromium: it loads without errors, every image decodes.

Two reports: ``yieldkit demo --design small --wafers 200`` and a report with
every analyst view on constructed lot data. Chromium comes from Debian's
packages (``.ci/run`` installs it); the tests skip saying so when it is absent.
Screenshots are left in the test's tmp folder (``YIELDKIT_SCREENSHOTS=DIR``
copies them there) for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from yieldkit.defect_map import DefectMap
from yieldkit.design import Design, load_design
from yieldkit.report import Report
from yieldkit import views

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package "
                                    "'chromium'; .ci/run installs it)")

_CHECK = """<script>
window.__ykErrors = [];
window.addEventListener("error", function (e) {
  window.__ykErrors.push(String(e.message || (e.target && (e.target.alt || e.target.src || e.target.tagName)) || "error"));
}, true);
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var result = {images: imgs.length, sizes: imgs.map(function (i) { return [i.naturalWidth, i.naturalHeight]; }),
                broken: imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return i.alt; }),
                errors: window.__ykErrors};
  var pre = document.createElement("pre");
  pre.id = "yk-check";
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
</script>"""


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def check_in_browser(report: Path, tmp_path: Path, name: str) -> dict:
    """Load a copy of ``report`` with a checking script; screenshot the original; return the check."""
    text = report.read_text()
    probe = tmp_path / f"{name}-probe.html"
    probe.write_text(text.replace("<head>", "<head>" + _CHECK, 1))
    done = _chromium("--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000", "--dump-dom",
                     probe.as_uri(), profile=tmp_path / f"{name}-profile-1")
    found = re.search(r'<pre id="yk-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"no check result in the DOM; chromium said: {done.stderr[-2000:]}"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    shot = tmp_path / f"{name}.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,3000", "--hide-scrollbars", report.as_uri(),
              profile=tmp_path / f"{name}-profile-2")
    assert shot.exists() and shot.stat().st_size > 10_000, "chromium wrote no screenshot"
    keep = os.environ.get("YIELDKIT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    return result


def assert_self_contained(text: str) -> None:
    """No external reference: every src is a data URI, no href, no url(), no script."""
    assert re.findall(r'src="(?!data:)', text) == []
    assert "href=" not in text and "url(" not in text and "<script" not in text
    assert "<link" not in text


DISC = Design(name="disc", rows=100, cols=100, pitch_x_mm=3.0, pitch_y_mm=3.0, logical_rows=80, logical_cols=80,
              reticle_rows=5, reticle_cols=5)


def lot_data(seed: int = 5) -> dict:
    """Constructed data of a lot: wafer maps with planted signatures, runs with a bad station, a failure history."""
    rng = np.random.default_rng(seed)
    design = DISC
    exist = np.flatnonzero(design.site_exists.reshape(-1))
    r, c = np.divmod(exist, design.cols)
    radius = np.hypot(c - design.cols / 2 + 0.5, r - design.rows / 2 + 0.5)
    ring = exist[radius > np.quantile(radius, 0.93)]
    wafers = []
    for k in range(10):
        dead = rng.choice(exist, rng.poisson(25), replace=False)
        if k in (2, 6):
            dead = np.concatenate([dead, rng.choice(ring, 90, replace=False)])
        if k == 4:
            dead = np.concatenate([dead, [(20 + i) * design.cols + 25 + i for i in range(45)]])
        if k == 8:
            dead = np.concatenate([dead, [(68 + i) * design.cols + 65 + j for i in range(5) for j in range(5)]])
        dead = np.intersect1d(np.unique(dead), exist)
        mapped = np.setdiff1d(rng.choice(exist, rng.poisson(6), replace=False), dead)
        wafers.append({"lot": "L7", "wafer": f"L7-{k:02d}", "dead_sites": dead, "mapped_out": mapped,
                       "lost": dead.size > 60})
    runs = pd.DataFrame({"run_id": np.arange(120), "station": rng.choice(["ST1", "ST2", "ST3", "ST4"], 120),
                         "operator": rng.choice(["ana", "bo", "cy"], 120),
                         "temperature_c": rng.choice([105.0, 125.0], 120), "voltage_v": rng.choice([0.85, 0.9], 120),
                         "lot": rng.choice(["L5", "L6", "L7"], 120), "hours": 48.0})
    runs["failures"] = rng.poisson(np.where(runs["station"] == "ST3", 12.0, 5.0))
    return {"design": design, "wafers": pd.DataFrame(wafers), "runs": runs}


def build_views_report(path: Path) -> Path:
    """A report with every view on :func:`lot_data`."""
    from yieldkit.reliability import WeibullFitter

    data = lot_data()
    design, wafers, runs = data["design"], data["wafers"], data["runs"]
    report = Report("Lot L7: burn-in and yield views")
    one = wafers.iloc[6]
    report.heading("Wafer map")
    report.figure(views.plot_wafer_map(design, DefectMap(design.rows, design.cols, one["dead_sites"],
                                                         dead_links=[2 * 5050, 2 * 3030 + 1]),
                                       mapped_out=one["mapped_out"], title=f"{one['wafer']}"), "One wafer")
    report.figure(views.plot_wafer_map(design, DefectMap(design.rows, design.cols, one["dead_sites"]),
                                       mapped_out=one["mapped_out"], region=(0, 30, 20, 60)), "Zoom on rows 0-29")
    wse = load_design("wse")
    exist = np.flatnonzero(wse.site_exists.reshape(-1))
    rng = np.random.default_rng(3)
    report.figure(views.plot_wafer_map(wse, DefectMap(wse.rows, wse.cols, rng.choice(exist, 400, replace=False)),
                                       mapped_out=rng.choice(exist, 30, replace=False)), "A wse wafer, 10^6 sites")
    classified = views.classify_wafers(design, wafers)
    report.heading("Gallery, stacked map and signatures")
    report.figure(views.plot_wafer_gallery(design, wafers.assign(label=classified["signature"]), title="Lot L7"),
                  "Gallery")
    freq, n = views.stack_frequency(design, wafers["dead_sites"])
    report.figure(views.plot_stacked_map(design, freq, n), "Stacked map")
    report.table(classified[["wafer", "signature", "n_dead", "edge_ratio", "centre_ratio", "clark_evans_r",
                             "max_elongation"]])
    report.table(views.lot_signature_summary(classified))
    report.heading("Waterfall")
    report.figure(views.plot_waterfall(views.waterfall_steps(design, int(one["dead_sites"].size),
                                                             int(one["mapped_out"].size))), "Waterfall")
    report.heading("Failures")
    pareto = pd.DataFrame({"fault_class": ["sram", "marginal_core", "transient_bit_flip", "link_packet_loss",
                                           "thermal"], "count": [420, 230, 120, 40, 9]})
    pareto["share"] = pareto["count"] / pareto["count"].sum()
    pareto["cumulative_share"] = pareto["share"].cumsum()
    report.figure(views.plot_pareto(pareto), "Pareto")
    times = 30 * rng.weibull(0.6, 60)
    fit = WeibullFitter().fit(np.minimum(times, 48.0), times < 48.0)
    hours = np.arange(48)
    sram = rng.poisson(25 * fit.hazard(hours + 0.5))  # 25 units at risk, the fit's hazard
    per_hour = pd.concat([pd.DataFrame({"bin": hours, "bin_start_h": hours, "bin_end_h": hours + 1,
                                        "fault_class": cls, "failures": counts})
                          for cls, counts in (("sram", sram), ("marginal_core", rng.poisson(8 * (hours + 0.5) ** -0.6)),
                                              ("thermal", rng.poisson(0.3, 48)))])
    report.figure(views.plot_failures_per_hour(per_hour, fits={"sram": fit}, units_at_risk=25), "Per hour")
    report.figure(views.plot_weibull_probability(fit), "Weibull")
    report.heading("Commonality and control chart")
    ranking = views.commonality(runs)
    report.figure(views.plot_commonality(ranking, runs), "Commonality")
    report.table(ranking)
    lots = pd.DataFrame({"period": [f"L{k:02d}" for k in range(30)], "cores_tested": 20_000,
                         "cores_failed": rng.binomial(20_000, 0.004, 30)})
    lots.loc[21, "cores_failed"] = 150
    report.figure(views.plot_control_chart(views.p_chart(lots)), "p-chart")
    return report.write(path)


@needs_chromium
def test_views_report_in_chromium(tmp_path):
    report = build_views_report(tmp_path / "views.html")
    assert_self_contained(report.read_text())
    result = check_in_browser(report, tmp_path, "views-report")
    assert result["errors"] == [] and result["broken"] == []
    assert result["images"] == 11
    assert all(w > 100 and h > 100 for w, h in result["sizes"])


@needs_chromium
def test_demo_report_in_chromium(tmp_path):
    out = tmp_path / "demo"
    subprocess.run([str(Path(sys.executable).with_name("yieldkit")), "demo", "--design", "small", "--wafers", "200", "-o",
                    str(out), "-q"], check=True, capture_output=True, timeout=300)
    report = out / "report.html"
    text = report.read_text()
    assert_self_contained(text)
    # the report alone is enough: move it away from its pictures
    alone = tmp_path / "alone" / "report.html"
    alone.parent.mkdir()
    shutil.move(report, alone)
    result = check_in_browser(alone, tmp_path, "demo-report")
    assert result["errors"] == [] and result["broken"] == []
    assert result["images"] >= 2
