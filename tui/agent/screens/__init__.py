"""Screens and dialogs of the agent terminal."""
