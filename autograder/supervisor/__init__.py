"""The process that always writes results.json; it never imports torch or student code."""
