"""Domain Guard: keep password resets away from lapsed email domains."""
