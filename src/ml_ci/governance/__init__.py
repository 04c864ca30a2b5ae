"""Approvals: pure rules over reviews and comments, plus the GitHub I/O that feeds them."""
