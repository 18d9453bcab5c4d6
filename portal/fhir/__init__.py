"""FHIR R4 (as fhir.resources' R4B models): identifier systems and the mapping of a person's
data to a Bundle and back."""
