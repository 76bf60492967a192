"""The hashed locks cover every dependency setup.cfg declares, at versions it admits."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", re.M)
HASH = re.compile(r"^    --hash=sha256:[0-9a-f]{64}", re.M)


def declared(section: str, key: str) -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return [Requirement(line) for line in config[section][key].splitlines() if line.strip()]


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


@pytest.mark.parametrize(("lock", "requirements"), [
    ("runtime.lock", declared("options", "install_requires")),
    ("dev.lock", declared("options", "install_requires")
     + declared("options.extras_require", "dev")),
])
def test_every_declared_dependency_is_pinned_within_its_range(lock, requirements):
    pinned = pins(lock)
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in requirements/{lock}: run make lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"requirements/{lock} pins {name}=={pinned[name]}, outside {requirement}: "
            "run make lock")


@pytest.mark.parametrize("lock", ["build.lock", "runtime.lock", "dev.lock"])
def test_every_pin_carries_hashes_and_no_index_is_named(lock):
    text = (ROOT / "requirements" / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 1)[1])
    pinned = [b for b in blocks if PIN.match(b.split("\n", 1)[0] + "\n")]
    assert pinned and all(HASH.search(b) for b in pinned)
    assert "--index-url" not in text and "--extra-index-url" not in text
    assert "--find-links" not in text and "://" not in text


def test_runtime_and_dev_agree_on_every_shared_pin():
    runtime, dev = pins("runtime.lock"), pins("dev.lock")
    assert {n: v for n, v in runtime.items() if dev.get(n) != v} == {}


def test_the_image_installs_only_from_the_lock_and_runs_unprivileged_in_production():
    dockerfile = (ROOT / "Dockerfile").read_text()
    lines = [line for line in dockerfile.splitlines() if not line.startswith("#")]
    base = next(line for line in lines if line.startswith("FROM "))
    assert re.fullmatch(r"FROM python:3\.11[\w.-]*@sha256:[0-9a-f]{64}", base), base
    installs = [line for line in lines if "pip install" in line]
    assert installs and all("--require-hashes" in line or "--no-deps" in line
                            for line in installs)
    assert "requirements/runtime.lock" in dockerfile
    assert "KINPASS_ENV=production" in dockerfile
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    packages = [p.strip().rstrip("*") for p in
                config["options.packages.find"]["include"].split(",")]
    assert set(packages) <= copied, set(packages) - copied
