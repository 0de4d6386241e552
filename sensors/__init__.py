"""Schedules, sensors and alerts of the barometer pipeline."""
