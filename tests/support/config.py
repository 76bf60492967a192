"""A production configuration that starts: each refusal test changes one thing in it."""
from __future__ import annotations

import base64

KEK = base64.b64encode(bytes(range(32))).decode()
GOOD = {"env": "production", "database_url": "postgresql://db.internal/kinpass", "kek": KEK,
        "jwt_secret": "s" * 48, "storage_url": "s3://kinpass-documents",
        "issuer": "https://kinpass.gov.example", "metrics_token": "m" * 32}
