"""The bare baseline: Flask answering a constant JSON document, nothing else."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/hello")
def hello():
    return jsonify(status="ok")
