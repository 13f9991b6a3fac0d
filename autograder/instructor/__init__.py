"""Instructors' tools; never shipped to students."""
