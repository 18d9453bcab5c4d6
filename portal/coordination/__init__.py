"""Requests for coordination ("Be om samordning"): drafts, sent requests, their timeline."""
