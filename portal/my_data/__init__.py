"""Mina uppgifter: the right of access (GDPR article 15), a readable document and a FHIR file."""
