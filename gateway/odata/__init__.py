"""The OData v4 protocol: query options, $filter translation, CSDL metadata, JSON payloads."""
