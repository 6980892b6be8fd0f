"""The OpenAPI 3.1 document, generated from the route table and the wire models (models.py)."""
