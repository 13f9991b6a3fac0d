"""The trusted grading session: pytest over the graders, talking to the student's process."""
