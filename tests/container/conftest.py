"""Registers the `container` marker (deselect with `-m "not container"`)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "container: builds the Docker image and runs it (docker, or buildah on CI)")
