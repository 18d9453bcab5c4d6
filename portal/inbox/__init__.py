"""The contact persons\x27 inbox: requests, threads and slipped follow-ups of a unit."""
