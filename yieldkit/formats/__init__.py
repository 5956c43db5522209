"""Industry data formats: inspection defect lists in, SEMI wafer maps out and in.

- :mod:`yieldkit.formats.inspection`: :class:`InspectionDefects`, the defects
  of one or many inspected wafers (positions, sizes, classes) and their
  conversion to a :class:`~yieldkit.defect_map.DefectMap` on a design;
- :mod:`yieldkit.formats.klarf`: KLARF 1.2 and 1.8 reader (streaming), KLARF 1.2 writer;
- :mod:`yieldkit.formats.defect_list`: plain CSV / Parquet defect lists;
- :mod:`yieldkit.formats.sitemap`: the state of every site of a wafer (:class:`SiteState`);
- :mod:`yieldkit.formats.g85`, :mod:`yieldkit.formats.e142`: SEMI G85 and
  SEMI E142 XML wafer maps of those states;
- :mod:`yieldkit.formats.io`: format-recognising entry points (``read_defects``,
  ``write_map``, ``read_map``).

Coordinates everywhere in this package: millimetres, origin at the wafer
centre, x to the right, y up, notch at the bottom (the convention of
:mod:`yieldkit.design`).
"""
