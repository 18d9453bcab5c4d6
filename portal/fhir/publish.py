"""publish (issue 13): see portal.fhir.api."""

route_handlers: list = []
