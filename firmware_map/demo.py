"""The firmware stage of ``yieldkit demo``: build, verify and picture the repaired wafer's image.

Registered under the ``yieldkit.demo`` entry point, so the demo in
``yieldkit`` runs it without importing this package.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from firmware_map.image import build_image, parse_image, write_image
from firmware_map.inspection import inspect_image, plot_image
from firmware_map.verify import verify_image
from yieldkit.outputs import atomic_path
from yieldkit.repair_map import RepairMap

__all__ = ["firmware_stage"]


def firmware_stage(ctx: Any) -> None:
    """Build the image of ``ctx.files["repair_map"]``, verify it against the wafer's defects, report."""
    if "repair_map" not in ctx.files:
        return
    repair_map = RepairMap.load(ctx.files["repair_map"])
    data = build_image(repair_map, wafer_id=f"DEMO-{ctx.seed}", design=ctx.design)
    ctx.files["fabric_image"] = write_image(data, ctx.out_dir / "wafer.fabimg")
    image = parse_image(data)
    verdict = verify_image(data, defects=ctx.wafer, design=ctx.design)
    figure = plot_image(image)
    with atomic_path(ctx.out_dir / "fabric_image.png") as tmp:
        figure.savefig(tmp, dpi=120)
    summary = inspect_image(image, ctx.design).to_dict()
    ctx.report.heading("Firmware fabric image of that wafer")
    ctx.report.table(pd.DataFrame([{
        "bytes": len(data),
        "bytes_per_core": summary["image_bytes_per_core"],
        "logical_cores": summary["logical_cores"],
        "moved_cores": summary["moved_cores"],
        "verified": verdict.ok,
        "first_failed_check": verdict.failed.check if verdict.failed else "",
        "sha256": summary["digest_sha256"][:16] + "...",
    }]))
    ctx.report.image("fabric_image.png", "Physical grid as the image configures it: in place, moved here, "
                     "bypassed and dead sites")
    ctx.report.paragraph("Check it again with: yieldkit firmware verify wafer.fabimg --defects wafer_defects.json",
                         note=True)
