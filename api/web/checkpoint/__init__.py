"""The checkpoint app: its files (files.py, in the OpenAPI document) and the JSON calls its
script makes on the console's session cookie (session.py); the app itself is in static/."""
