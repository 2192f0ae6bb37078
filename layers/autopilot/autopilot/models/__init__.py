"""Typed events at the edge and the messages the functions exchange."""
