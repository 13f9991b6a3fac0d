"""How a student's processes are confined, limited and cleaned up; used by every tier."""
