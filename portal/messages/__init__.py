"""Questions to a contact person: threads and messages."""
