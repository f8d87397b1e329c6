from tests.metadata_fakes import remote  # noqa: F401 - fixture shared by the service tests
