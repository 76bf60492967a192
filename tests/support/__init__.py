"""Helpers shared by the test suites and `bench/`: imported, never collected.

- ``http``: bearer headers and free loopback ports
- ``databases``: the PostgreSQL test URL and fresh databases per worker
- ``s3``: a real S3 server (moto's server mode) on loopback
- ``accounts``: registering relatives and staff as a client would
- ``cases``, ``documents``, ``world``: building cases, uploads and approved cases
- ``registry``: a generated prisoner registry and the queries made against it
- ``serving``: a real ``kinpass serve`` as a subprocess
- ``assurance``: every route and role, and "nothing changed" snapshots
"""
