"""Briefings: HTML reports that each analysis area contributes a section to."""
