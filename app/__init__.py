"""Loss Lab's web service: FastAPI routes over the numpy engine."""
