"""Probes: our own code that runs in the student's process and calls the submission.

A probe takes the imported submission module first, then plain-data arguments, and returns
plain data (tensors, numbers, strings, containers). It never decides a verdict: the grader
compares what a probe returns with what the reference gives. Probes import nothing from the
graders or the solutions, which the student's process must not see.
"""
