"""Errors a user can fix. Every layer raises them; the command line prints the message to stderr
and exits with code 2, the dashboard shows it on the page.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the message says what to do."""
