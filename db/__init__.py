"""db package (see DESIGN.md)."""
