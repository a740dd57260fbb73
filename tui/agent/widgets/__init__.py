"""Widgets of the agent terminal: the softphone bar, the screen pop, the CRM side panels."""
