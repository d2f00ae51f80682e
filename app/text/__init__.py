"""Text utilities shared by ingest and the answer path."""
