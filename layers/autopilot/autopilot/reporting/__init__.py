"""Rendering the weekly cost report: HTML for mail clients, plain text, CSV, and the MIME email."""
