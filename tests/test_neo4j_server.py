"""The embedded Neo4j: start/status/stop, port checks, and connection errors users will see."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
import socket
import stat
import urllib.request

import pytest
from click.testing import CliRunner

from pipelines import neo4j_client
from pipelines import neo4j_server as embedded
from pipelines.cli import main
from conftest import Neo4jServer, free_port, small_instance


def _embedded(server: Neo4jServer) -> embedded.ServerSettings:
    if server.instance is None:
        pytest.skip("NEO4J_URI points at an external server; no embedded instance to inspect")
    return server.instance


@pytest.mark.neo4j
def test_status_of_running_instance_names_urls_and_password_file(neo4j_server: Neo4jServer) -> None:
    instance = _embedded(neo4j_server)
    st = embedded.status(instance)
    assert st.running and st.pid
    assert st.version.startswith(embedded.neo4j_version())
    assert st.bolt_uri == f"bolt://127.0.0.1:{instance.bolt_port}" == neo4j_server.uri
    assert st.store_bytes > 0
    text = "\n".join(embedded.format_status(st))
    assert str(instance.password_file) in text
    assert neo4j_server.password not in text
    assert stat.S_IMODE(instance.password_file.stat().st_mode) == 0o600

    result = CliRunner().invoke(main, ["neo4j", "status", "--instance-dir", str(instance.instance_dir)],
                                env={"NEO4J_URI": None})
    assert result.exit_code == 0, result.output
    assert f"pid {st.pid}" in result.output and st.browser_url in result.output


@pytest.mark.neo4j
def test_browser_is_served_over_http(neo4j_server: Neo4jServer) -> None:
    instance = _embedded(neo4j_server)
    with urllib.request.urlopen(instance.browser_url, timeout=10) as response:
        assert response.status == 200
        assert "<title>Neo4j Browser</title>" in response.read().decode()


@pytest.mark.neo4j
def test_conf_is_loopback_only_with_https_off(neo4j_server: Neo4jServer) -> None:
    conf = (_embedded(neo4j_server).conf_dir / "neo4j.conf").read_text().splitlines()
    assert "server.default_listen_address=127.0.0.1" in conf
    assert "server.https.enabled=false" in conf
    assert "dbms.usage_report.enabled=false" in conf


@pytest.mark.neo4j
def test_second_instance_starts_without_fetch_then_stops(
    neo4j_server: Neo4jServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reuses the fetched jars (Maven is made unavailable), status follows, stop ends the process."""
    _embedded(neo4j_server)  # needs the jars the session fetched
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)

    def no_maven() -> str:
        raise AssertionError("the jars were fetched again")

    monkeypatch.setattr(embedded, "find_maven", no_maven)
    instance = small_instance(tmp_path / "second", heap="256m", pagecache="64m")
    try:
        running = embedded.start(instance)
        assert running == instance
        pid = embedded.status(instance).pid
        assert pid and os.path.exists(f"/proc/{pid}")
        assert embedded.start(instance).bolt_port == instance.bolt_port  # already running: no-op
        with neo4j_client.open_driver(neo4j_client.connection_settings(instance)) as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS one")
            assert records[0]["one"] == 1
    finally:
        stopped = embedded.stop(instance)
    assert stopped
    st = embedded.status(instance)
    assert not st.running and st.pid is None
    assert not instance.run_file.exists()
    assert not embedded.stop(instance)  # stopping twice is harmless
    assert "Stopped." in embedded.log_tail(instance)


def test_taken_port_is_reported_before_anything_starts(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_URI", raising=False)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        instance = embedded.ServerSettings(instance_dir=tmp_path / "inst", bolt_port=taken,
                                               http_port=free_port())
        with pytest.raises(embedded.Neo4jServerError) as error:
            embedded.start(instance)
    message = str(error.value)
    assert f"Bolt port {taken}" in message and "--bolt-port" in message
    assert not instance.run_file.exists()


@pytest.mark.neo4j
def test_wrong_password_gives_clear_error(neo4j_server: Neo4jServer) -> None:
    wrong = neo4j_client.ConnectionSettings(neo4j_server.uri, neo4j_server.user, "not-the-password-42", "test")
    with pytest.raises(neo4j_client.Neo4jConnectionError) as error:
        neo4j_client.open_driver(wrong)
    message = str(error.value)
    assert f"authentication failed for user '{neo4j_server.user}' at {neo4j_server.uri}" in message
    assert "not-the-password-42" not in message


@pytest.mark.timeout(30)
def test_neo4j_uri_at_closed_port_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    monkeypatch.setenv("NEO4J_URI", uri)
    monkeypatch.setenv("NEO4J_PASSWORD", "whatever-password")
    with pytest.raises(neo4j_client.Neo4jConnectionError, match=f"Cannot connect to Neo4j at {uri}"):
        neo4j_client.open_driver()
    result = CliRunner().invoke(main, ["schema", "apply"])
    assert result.exit_code == 1
    assert f"Cannot connect to Neo4j at {uri}" in result.output
    assert "whatever-password" not in result.output


def test_missing_tools_name_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(embedded, "JVM_DIR", tmp_path)
    with pytest.raises(embedded.Neo4jServerError, match="apt-get install maven"):
        embedded.find_maven()
    with pytest.raises(embedded.Neo4jServerError, match="openjdk-17"):
        embedded.find_java()


def test_settings_come_from_options_then_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("SYBILGRAPH_NEO4J_BOLT_PORT", "17001")
    monkeypatch.setenv("SYBILGRAPH_NEO4J_HEAP", "3g")
    settings = embedded.server_settings(instance_dir=tmp_path, http_port=17002)
    assert (settings.bolt_port, settings.http_port, settings.heap, settings.pagecache) == (17001, 17002, "3g", "2g")
    conf = embedded.render_config(settings)
    assert "server.bolt.listen_address=127.0.0.1:17001" in conf
    assert "server.http.listen_address=127.0.0.1:17002" in conf
    assert f"server.directories.data={tmp_path / 'data'}" in conf
    assert "-Xmx3g" in embedded.java_command(settings, "java")
    monkeypatch.setenv("SYBILGRAPH_NEO4J_BOLT_PORT", "seven")
    with pytest.raises(embedded.Neo4jServerError, match="SYBILGRAPH_NEO4J_BOLT_PORT"):
        embedded.server_settings()


def _fake_machine(root, mem_kib: int, cgroup_v2: str | None = None, cgroup_v1: str | None = None):
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "meminfo").write_text(f"MemTotal:       {mem_kib} kB\nMemFree:        1000 kB\n")
    if cgroup_v2 is not None:
        (root / "sys/fs/cgroup").mkdir(parents=True)
        (root / "sys/fs/cgroup/memory.max").write_text(cgroup_v2 + "\n")
    if cgroup_v1 is not None:
        (root / "sys/fs/cgroup/memory").mkdir(parents=True)
        (root / "sys/fs/cgroup/memory/memory.limit_in_bytes").write_text(cgroup_v1 + "\n")
    return root


def test_default_heap_follows_the_memory_the_process_may_use(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    gib_kib = 1024 * 1024
    assert embedded.default_heap(_fake_machine(tmp_path / "big", 24 * gib_kib)) == "4g"
    assert embedded.default_heap(_fake_machine(tmp_path / "unlimited", 24 * gib_kib, cgroup_v2="max")) == "4g"
    assert embedded.default_heap(_fake_machine(tmp_path / "small", 8 * gib_kib)) == "2g"
    # a container limit below the machine's RAM wins (cgroup v2, then v1)
    assert embedded.default_heap(_fake_machine(tmp_path / "v2", 64 * gib_kib, cgroup_v2=str(8 * 1024**3))) == "2g"
    assert embedded.default_heap(_fake_machine(tmp_path / "v1", 64 * gib_kib, cgroup_v1=str(12 * 1024**3))) == "2g"
    assert embedded.default_heap(tmp_path / "nothing") == "2g"  # unreadable: the small heap
    monkeypatch.delenv("SYBILGRAPH_NEO4J_HEAP", raising=False)
    assert embedded.server_settings(instance_dir=tmp_path).heap == embedded.default_heap()


def test_fetch_marker_must_match_the_lib_folder(tmp_path) -> None:
    """A half-copied or emptied lib folder is fetched again; a complete one is reused."""
    settings = embedded.ServerSettings(instance_dir=tmp_path / "inst", dist_root=tmp_path / "dist")
    assert not embedded.is_fetched(settings)
    settings.lib_dir.mkdir(parents=True)
    for name in ("a.jar", "b.jar"):
        (settings.lib_dir / name).write_bytes(b"")
    assert not embedded.is_fetched(settings)  # no marker: Maven was interrupted
    (settings.dist_dir / embedded.FETCH_MARKER).write_text('{"jars": 2}')
    assert embedded.is_fetched(settings)
    (settings.lib_dir / "b.jar").unlink()
    assert not embedded.is_fetched(settings)


def test_two_fetches_at_once_run_maven_once(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make` prefetches in the background while the CLI may fetch too: one waits for the other."""
    calls = tmp_path / "mvn-calls"
    fake = tmp_path / "bin" / "mvn"
    fake.parent.mkdir()
    fake.write_text(  # a slow Maven that "copies" the server jar into -DoutputDirectory=
        "#!/bin/sh\necho run >> " + str(calls) + "\nsleep 1\n"
        'for a in "$@"; do case "$a" in -DoutputDirectory=*) d="${a#-DoutputDirectory=}";; esac; done\n'
        'mkdir -p "$d" && : > "$d/neo4j-' + embedded.neo4j_version() + '.jar"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setattr(embedded, "find_maven", lambda: str(fake))
    settings = embedded.ServerSettings(instance_dir=tmp_path / "inst", dist_root=tmp_path / "dist")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        libs = list(pool.map(lambda _: embedded.fetch_distribution(settings), range(2)))
    assert libs == [settings.lib_dir, settings.lib_dir]
    assert calls.read_text().split() == ["run"]
    assert embedded.is_fetched(settings)


@pytest.mark.neo4j
def test_stop_is_clean_even_when_the_starting_process_ignores_sigterm(neo4j_server: Neo4jServer, tmp_path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An ignored or blocked SIGTERM survives exec; the server must still shut down cleanly."""
    _embedded(neo4j_server)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    instance = small_instance(tmp_path / "ignoring", heap="256m", pagecache="64m")
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        embedded.start(instance)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        signal.signal(signal.SIGTERM, previous)
    try:
        began = time.monotonic()
        assert embedded.stop(instance, timeout=20)
        assert time.monotonic() - began < 20  # not the grace period, then SIGKILL
    finally:
        embedded.stop(instance)
    assert "Stopped." in embedded.log_tail(instance)


def test_jvm_flags_of_an_instance_replace_the_default_collector(tmp_path) -> None:
    """Two collectors make the JVM refuse to start: a GC named by the instance drops G1."""
    plain = embedded.ServerSettings(instance_dir=tmp_path)
    assert "-XX:+UseG1GC" in embedded.java_command(plain, "java")
    tuned = embedded.ServerSettings(instance_dir=tmp_path, jvm_flags=("-XX:+UseParallelGC", "-Xmn1g"))
    command = embedded.java_command(tuned, "java")
    assert "-XX:+UseG1GC" not in command
    assert command.index("-XX:+UseParallelGC") < command.index(embedded.MAIN_CLASS)
    assert "-Xmn1g" in command and "-XX:+ExitOnOutOfMemoryError" in command
    other = embedded.ServerSettings(instance_dir=tmp_path, jvm_flags=("-Xlog:gc",))
    assert "-XX:+UseG1GC" in embedded.java_command(other, "java")
