"""Leaderboards: aggregate Result files into one tidy table and write it in many formats."""
