"""cmref harness: runs .wast directives on engines and records honest results."""
