"""Click commands of the ``yieldkit`` package; each module parses, calls, prints."""
