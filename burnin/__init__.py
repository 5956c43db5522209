"""burnin package (see DESIGN.md)."""
