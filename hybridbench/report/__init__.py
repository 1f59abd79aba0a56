"""Reporters: each turns results into one output format (terminal, HTML, Markdown)."""
