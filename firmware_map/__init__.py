"""firmware_map package (see DESIGN.md)."""
