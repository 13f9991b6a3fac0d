"""The student's process (untrusted): imports the submission and runs probes on it."""
