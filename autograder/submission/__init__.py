"""What the student sent, read as text: no student code runs here."""
