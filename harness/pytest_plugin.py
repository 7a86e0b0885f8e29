"""pytest plugin: collects .wast files as test items (filled in by the harness issue)."""
