"""Fetch and run the embedded Neo4j Community server (no click here; ``cli.py`` wraps it).

Neo4j publishes no runnable tarball on Maven Central, but every server jar is there:
``graph_schema/server/pom.xml`` names ``org.neo4j:neo4j`` (the whole server, transitively)
and the Neo4j Browser. Maven copies those jars once into a *distribution* folder shared by
every *instance*; an instance is a folder with its own ``conf/neo4j.conf``, data, logs and
pid file, so tests can run a throw-away instance on other ports with the same jars.

Layout (defaults)::

    state_dir()/neo4j/dist/<version>/lib/*.jar      fetched once (marker: fetched.json)
    state_dir()/neo4j/dist/m2/                      Maven's local repository for the fetch
    state_dir()/neo4j/instance/conf/neo4j.conf      written on every start
    state_dir()/neo4j/instance/data/                store, auth, 0600 password file
    state_dir()/neo4j/instance/logs/neo4j.log       user log (debug.log next to it)
    state_dir()/neo4j/instance/run/sybilgraph.json  pid + ports of the running server
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.paths import GRAPH_SCHEMA_DIR, make_private, private_files, state_dir

POM_FILE = GRAPH_SCHEMA_DIR / "server" / "pom.xml"
MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"
PASSWORD_FILE_NAME = "sybilgraph-neo4j-password"
RUN_FILE_NAME = "sybilgraph.json"
FETCH_MARKER = "fetched.json"
NEO4J_USER = "neo4j"
SUPPORTED_JAVA = (17, 21)  # Neo4j 5.26 LTS runs on these two
DEFAULT_PAGECACHE = "2g"  # a loaded demo store is ~0.45 GB
JVM_DIR = Path("/usr/lib/jvm")  # Debian/Ubuntu JDKs, searched when JAVA_HOME/PATH java won't do

# The flags the shipped neo4j.conf puts in server.jvm.additional (calling the main class
# directly bypasses that setting, so they are passed here), less the TLS ones (no TLS on
# loopback), the diagnostic ones (Flight Recorder stack depth, DebugNonSafepoints), and
# -XX:+AlwaysPreTouch and -XX:+TrustFinalNonStaticFields: with both, loads on a fresh server
# were slower, warm ones no faster, and the whole heap was resident from the start
# (docs/benchmarks.md, Neo4j load: findings and history).
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
)

Echo = Callable[[str], None]


class Neo4jServerError(RuntimeError):
    """A problem the user can fix (missing tool, taken port, failed start); message says how."""


def _quiet(_: str) -> None:
    pass


# ----------------------------------------------------------------------------- settings


def _pom_property(name: str) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    value = ET.parse(POM_FILE).getroot().findtext(f"m:properties/m:{name}", namespaces=ns)
    if not value:
        raise Neo4jServerError(f"{POM_FILE} has no <{name}> property")
    return value.strip()


def neo4j_version() -> str:
    """The Neo4j version the pom fetches (single source of truth)."""
    return _pom_property("neo4j.version")


def browser_version() -> str:
    return _pom_property("neo4j-browser.version")


def default_dist_root() -> Path:
    """Shared jars; ``SYBILGRAPH_NEO4J_DIST`` moves them (e.g. to a CI cache)."""
    env = os.environ.get("SYBILGRAPH_NEO4J_DIST")
    return Path(env).resolve() if env else state_dir() / "neo4j" / "dist"


def default_instance_dir() -> Path:
    env = os.environ.get("SYBILGRAPH_NEO4J_INSTANCE")
    return Path(env).resolve() if env else state_dir() / "neo4j" / "instance"


LARGE_HEAP_MIN_MEMORY = 16 * 1024**3


def usable_memory_bytes(root: Path = Path("/")) -> int:
    """RAM this process may use: the machine's, or its container's limit when lower
    (cgroup v2 ``memory.max``, v1 ``memory.limit_in_bytes``)."""
    meminfo = (root / "proc/meminfo").read_text()
    total = int(next(line for line in meminfo.splitlines() if line.startswith("MemTotal:")).split()[1]) * 1024
    for limit_file in ("sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = (root / limit_file).read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            total = min(total, int(raw))
    return total


def default_heap(root: Path = Path("/")) -> str:
    """4g on a machine with 16 GiB or more, else 2g. A full demo load on a 2 GB heap spends
    8-12 s of the JVM's ~50-70 s in the garbage collector, on 4 GB 3-4 s (docs/benchmarks.md)."""
    try:
        return "4g" if usable_memory_bytes(root) >= LARGE_HEAP_MIN_MEMORY else "2g"
    except (OSError, StopIteration, ValueError):
        return "2g"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise Neo4jServerError(f"{name}={raw!r} is not a port number") from None


@dataclass(frozen=True)
class ServerSettings:
    """Everything one instance needs. Build it with :func:`server_settings` to honour the env."""

    instance_dir: Path = field(default_factory=default_instance_dir)
    dist_root: Path = field(default_factory=default_dist_root)
    bolt_port: int = 7687
    http_port: int = 7474
    # 4g with 16 GiB of RAM or more (the pipeline process itself peaks at ~3.2 GiB in a demo run)
    heap: str = field(default_factory=default_heap)
    pagecache: str = DEFAULT_PAGECACHE
    extra_conf: Mapping[str, str] = field(default_factory=dict)
    # Extra JVM options after the shipped ones (e.g. a benchmark's GC choice); one that picks
    # a collector (-XX:+Use...GC) replaces the default G1 instead of clashing with it.
    jvm_flags: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        return neo4j_version()

    @property
    def dist_dir(self) -> Path:
        return self.dist_root / self.version

    @property
    def lib_dir(self) -> Path:
        return self.dist_dir / "lib"

    @property
    def conf_dir(self) -> Path:
        return self.instance_dir / "conf"

    @property
    def data_dir(self) -> Path:
        return self.instance_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.instance_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.instance_dir / "run"

    @property
    def password_file(self) -> Path:
        return self.data_dir / PASSWORD_FILE_NAME

    @property
    def run_file(self) -> Path:
        return self.run_dir / RUN_FILE_NAME

    @property
    def log_file(self) -> Path:
        return self.logs_dir / "neo4j.log"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/browser/"


def server_settings(
    instance_dir: Path | None = None,
    bolt_port: int | None = None,
    http_port: int | None = None,
    heap: str | None = None,
    pagecache: str | None = None,
) -> ServerSettings:
    """Settings from explicit arguments, else ``SYBILGRAPH_NEO4J_*`` env, else defaults."""
    env = os.environ.get
    return ServerSettings(
        instance_dir=Path(instance_dir).resolve() if instance_dir else default_instance_dir(),
        bolt_port=bolt_port or _env_int("SYBILGRAPH_NEO4J_BOLT_PORT", 7687),
        http_port=http_port or _env_int("SYBILGRAPH_NEO4J_HTTP_PORT", 7474),
        heap=heap or env("SYBILGRAPH_NEO4J_HEAP") or default_heap(),
        pagecache=pagecache or env("SYBILGRAPH_NEO4J_PAGECACHE") or DEFAULT_PAGECACHE,
    )


def external_uri() -> str | None:
    """``NEO4J_URI`` when the user brings their own server (then nothing is started)."""
    return os.environ.get("NEO4J_URI") or None


# ----------------------------------------------------------------------------- tools


def find_java() -> str:
    """A ``java`` Neo4j 5.26 accepts (17 or 21): ``JAVA_HOME`` first, then ``PATH``, then
    the JDKs under ``/usr/lib/jvm`` (a machine whose default is Java 25 may still have 17).
    """
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    if shutil.which("java"):
        candidates.append(shutil.which("java"))
    candidates += sorted(str(p) for p in JVM_DIR.glob("*/bin/java"))
    found = []
    for java in dict.fromkeys(candidates):  # unique, order kept
        if not Path(java).exists():
            continue
        major = java_major_version(java)
        if major in SUPPORTED_JAVA:
            return java
        found.append(f"{java} (Java {major})")
    if not found:
        raise Neo4jServerError(
            "Java not found (Neo4j needs a Java 17 or 21 runtime). Install one, e.g. "
            "`apt-get install openjdk-17-jre-headless`, or set JAVA_HOME to a JDK 17/21."
        )
    raise Neo4jServerError(
        f"Neo4j {neo4j_version()} runs on Java 17 or 21; found only {', '.join(found)}. "
        "Install openjdk-17-jre-headless or point JAVA_HOME at a JDK 17/21."
    )


def java_major_version(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise Neo4jServerError(f"cannot tell the version of {java}: {out.stderr.strip()[:200]}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 else major  # "1.8" style


def find_maven() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise Neo4jServerError(
            "Maven (mvn) not found: it fetches the Neo4j server jars on first start. Install "
            "Maven 3.6+, e.g. `apt-get install maven`, then run `sybilgraph neo4j start` again."
        )
    return mvn


# ----------------------------------------------------------------------------- fetch


def is_fetched(settings: ServerSettings) -> bool:
    """True when the lib folder is complete (marker written last, jar count matches)."""
    marker = settings.dist_dir / FETCH_MARKER
    if not marker.is_file() or not settings.lib_dir.is_dir():
        return False
    try:
        expected = json.loads(marker.read_text())["jars"]
    except (ValueError, KeyError):
        return False
    return len(list(settings.lib_dir.glob("*.jar"))) == expected


def fetch_distribution(settings: ServerSettings, echo: Echo = _quiet) -> Path:
    """Copy the server + Browser jars into ``lib/`` once; later calls return at once."""
    if is_fetched(settings):
        return settings.lib_dir
    mvn = find_maven()
    find_java()
    settings.dist_dir.mkdir(parents=True, exist_ok=True)
    # `make` prefetches in the background while pip installs; a second fetcher waits here
    with open(settings.dist_dir / "fetch.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_fetched(settings):
            return settings.lib_dir
        return _fetch_locked(settings, mvn, echo)


def _fetch_locked(settings: ServerSettings, mvn: str, echo: Echo) -> Path:
    partial = settings.dist_dir / "lib.partial"
    shutil.rmtree(partial, ignore_errors=True)
    echo(f"Fetching Neo4j {settings.version} and Neo4j Browser {browser_version()} with Maven "
         f"(first start only, ~140 MB) ...")
    began = time.monotonic()
    command = [
        mvn, "-B", "-q", "-f", str(POM_FILE),
        f"-Dmaven.repo.local={settings.dist_root / 'm2'}",
        "dependency:copy-dependencies", f"-DoutputDirectory={partial}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise Neo4jServerError(f"Maven could not fetch Neo4j (exit {result.returncode}):\n{tail}")
    jars = sorted(partial.glob("*.jar"))
    if not any(j.name.startswith(f"neo4j-{settings.version}") for j in jars):
        raise Neo4jServerError(f"Maven finished but {partial} holds no neo4j-{settings.version}.jar")
    total_bytes = sum(j.stat().st_size for j in jars)
    shutil.rmtree(settings.lib_dir, ignore_errors=True)
    partial.rename(settings.lib_dir)
    seconds = round(time.monotonic() - began, 1)
    marker = {
        "neo4j_version": settings.version,
        "browser_version": browser_version(),
        "jars": len(jars),
        "bytes": total_bytes,
        "seconds": seconds,
        "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (settings.dist_dir / FETCH_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    echo(f"Fetched {len(jars)} jars ({_human(marker['bytes'])}) in {seconds} s into {settings.lib_dir}")
    return settings.lib_dir


# ----------------------------------------------------------------------------- config + password


def render_config(settings: ServerSettings) -> str:
    """The instance's ``neo4j.conf``: loopback only, https off, every folder inside the instance."""
    s = settings
    values: dict[str, str] = {
        "server.default_listen_address": "127.0.0.1",
        "server.default_advertised_address": "127.0.0.1",
        "server.bolt.enabled": "true",
        "server.bolt.listen_address": f"127.0.0.1:{s.bolt_port}",
        "server.bolt.advertised_address": f"127.0.0.1:{s.bolt_port}",
        "server.http.enabled": "true",
        "server.http.listen_address": f"127.0.0.1:{s.http_port}",
        "server.http.advertised_address": f"127.0.0.1:{s.http_port}",
        "server.https.enabled": "false",
        "dbms.security.auth_enabled": "true",
        "dbms.usage_report.enabled": "false",
        "server.memory.heap.initial_size": s.heap,  # informational: -Xms/-Xmx do the work
        "server.memory.heap.max_size": s.heap,
        "server.memory.pagecache.size": s.pagecache,
        "server.directories.data": str(s.data_dir),
        "server.directories.logs": str(s.logs_dir),
        "server.directories.run": str(s.run_dir),
        "server.directories.import": str(s.instance_dir / "import"),
        "server.directories.plugins": str(s.instance_dir / "plugins"),
        "server.directories.lib": str(s.lib_dir),
    }
    values.update(s.extra_conf)
    lines = ["# Written by sybilgraph (pipelines/neo4j_server.py) on every start; edits are lost."]
    lines += [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def write_config(settings: ServerSettings) -> Path:
    for folder in ("conf", "data", "logs", "run", "import", "plugins"):
        (settings.instance_dir / folder).mkdir(parents=True, exist_ok=True)
    path = settings.conf_dir / "neo4j.conf"
    path.write_text(render_config(settings))
    return path


def _auth_initialised(settings: ServerSettings) -> bool:
    return (settings.data_dir / "dbms" / "auth.ini").exists() or (
        settings.data_dir / "databases" / "system"
    ).exists()


def _admin_env(settings: ServerSettings) -> dict[str, str]:
    return {**os.environ, "NEO4J_HOME": str(settings.instance_dir), "NEO4J_CONF": str(settings.conf_dir)}


def ensure_password(settings: ServerSettings, java: str, echo: Echo = _quiet) -> None:
    """Before the first start: set the initial password (``NEO4J_PASSWORD`` or a generated one).

    A generated password goes to a 0600 file in the data folder; one from the environment is
    not written anywhere (the user keeps it in their environment).
    """
    if _auth_initialised(settings):
        return
    password = os.environ.get("NEO4J_PASSWORD") or None
    if password is not None and len(password) < 8:
        raise Neo4jServerError("NEO4J_PASSWORD must have at least 8 characters (Neo4j's minimum)")
    if password is None:
        password = secrets.token_urlsafe(24)
        write_secret(settings.password_file, password)
        echo(f"Generated the Neo4j password into {settings.password_file} (mode 0600)")
    result = subprocess.run(
        # "--" ends the options: a password may start with "-" (token_urlsafe gives one in 32)
        [java, "-cp", f"{settings.lib_dir}/*", ADMIN_CLASS, "dbms", "set-initial-password", "--", password],
        env=_admin_env(settings), capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        out = (result.stdout + result.stderr).replace(password, "***")
        raise Neo4jServerError(f"neo4j-admin set-initial-password failed:\n{out.strip()[-2000:]}")


def write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)


def read_password(settings: ServerSettings) -> str:
    """``NEO4J_PASSWORD`` if set, else the instance's generated password file."""
    password = os.environ.get("NEO4J_PASSWORD")
    if password:
        return password
    if not settings.password_file.is_file():
        raise Neo4jServerError(
            f"No Neo4j password: {settings.password_file} does not exist and NEO4J_PASSWORD is not "
            "set. Start the embedded server once (`sybilgraph neo4j start`) or set NEO4J_PASSWORD."
        )
    return settings.password_file.read_text().strip()


# ----------------------------------------------------------------------------- process


def port_in_use(port: int) -> bool:
    """True when something listens on 127.0.0.1:port or holds it.

    SO_REUSEADDR like Neo4j's own sockets, so TIME_WAIT leftovers of a server that just
    stopped do not count as taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def check_ports_free(settings: ServerSettings) -> None:
    taken = [(name, port) for name, port, option in _port_options(settings) if port_in_use(port)]
    if taken:
        what = ", ".join(f"{name} port {port}" for name, port in taken)
        hints = "; ".join(f"{option}" for name, port, option in _port_options(settings)
                          if (name, port) in taken)
        raise Neo4jServerError(
            f"Cannot start Neo4j: {what} on 127.0.0.1 already in use (another Neo4j?). "
            f"Choose another port with {hints}, or stop the other process."
        )


def _port_options(settings: ServerSettings) -> list[tuple[str, int, str]]:
    return [
        ("Bolt", settings.bolt_port, "--bolt-port / SYBILGRAPH_NEO4J_BOLT_PORT"),
        ("HTTP", settings.http_port, "--http-port / SYBILGRAPH_NEO4J_HTTP_PORT"),
    ]


def _process_alive(pid: int) -> bool:
    """Alive and not a zombie; reaps our own exited child so it does not linger."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True
    return True


def _is_our_server(pid: int, settings: ServerSettings) -> bool:
    """Guards against pid reuse: the process must be Neo4j started for this instance."""
    if not _process_alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return MAIN_CLASS.encode() in args and f"--home-dir={settings.instance_dir}".encode() in args


def read_run_info(settings: ServerSettings) -> dict | None:
    """The running server's pid and ports, or None (stale files are removed)."""
    try:
        info = json.loads(settings.run_file.read_text())
    except (OSError, ValueError):
        return None
    if not _is_our_server(int(info.get("pid", 0)), settings):
        settings.run_file.unlink(missing_ok=True)
        return None
    return info


def running_settings(settings: ServerSettings) -> ServerSettings:
    """``settings`` with the ports the running instance actually uses (if it runs)."""
    info = read_run_info(settings)
    if not info:
        return settings
    return ServerSettings(
        instance_dir=settings.instance_dir, dist_root=settings.dist_root,
        bolt_port=info["bolt_port"], http_port=info["http_port"],
        heap=info.get("heap", settings.heap), pagecache=info.get("pagecache", settings.pagecache),
        extra_conf=settings.extra_conf, jvm_flags=settings.jvm_flags,
    )


def _selects_gc(flag: str) -> bool:
    return flag.startswith("-XX:+Use") and flag.endswith("GC")


def jvm_options(settings: ServerSettings) -> list[str]:
    """The shipped flags plus the instance's own; the JVM refuses two collectors, so a GC
    named in ``settings.jvm_flags`` drops the default one."""
    base = list(JVM_FLAGS)
    if any(_selects_gc(flag) for flag in settings.jvm_flags):
        base = [flag for flag in base if not _selects_gc(flag)]
    return base + list(settings.jvm_flags)


def java_command(settings: ServerSettings, java: str) -> list[str]:
    return [
        java, f"-Xms{settings.heap}", f"-Xmx{settings.heap}", *jvm_options(settings),
        "-cp", f"{settings.lib_dir}/*", MAIN_CLASS,
        f"--home-dir={settings.instance_dir}", f"--config-dir={settings.conf_dir}",
    ]


def start(
    settings: ServerSettings | None = None,
    timeout: float | None = None,
    echo: Echo = _quiet,
) -> ServerSettings:
    """Start the instance in the background and wait until Bolt accepts our credentials.

    Fetches the jars on first use. Returns the settings the server runs with (when it was
    already running, the ports it was started with). Does nothing with ``NEO4J_URI`` set.
    """
    settings = settings or server_settings()
    if external_uri():
        echo(f"NEO4J_URI is set: using the external server at {external_uri()}; nothing started.")
        return settings
    if read_run_info(settings):
        running = running_settings(settings)
        echo(f"Neo4j already running (pid {read_run_info(settings)['pid']}) at {running.bolt_uri}")
        return running
    timeout = timeout or float(os.environ.get("SYBILGRAPH_NEO4J_START_TIMEOUT", "240"))
    # the JVM and neo4j-admin inherit the umask: store, logs and auth.ini owner-only
    private_files()
    make_private(settings.instance_dir)
    check_ports_free(settings)  # before the fetch: a taken port should fail in a second
    java = find_java()
    fetch_distribution(settings, echo=echo)
    write_config(settings)
    ensure_password(settings, java, echo=echo)
    password = read_password(settings)

    console = settings.logs_dir / "console.log"
    began = time.monotonic()
    with open(console, "ab") as out:
        process = subprocess.Popen(
            java_command(settings, java), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=settings.instance_dir, start_new_session=True,
            env=_admin_env(settings), preexec_fn=_default_stop_signals,
        )
    info = {
        "pid": process.pid, "bolt_port": settings.bolt_port, "http_port": settings.http_port,
        "heap": settings.heap, "pagecache": settings.pagecache, "version": settings.version,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    settings.run_file.write_text(json.dumps(info, indent=2) + "\n")
    echo(f"Starting Neo4j {settings.version} (pid {process.pid}) ...")
    try:
        _wait_for_bolt(settings, process, password, timeout)
    except BaseException:
        _terminate(process.pid, grace=20)
        settings.run_file.unlink(missing_ok=True)
        raise
    echo(f"Neo4j is up after {time.monotonic() - began:.1f} s")
    return settings


def _wait_for_bolt(settings: ServerSettings, process: subprocess.Popen, password: str,
                   timeout: float) -> None:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, ServiceUnavailable, TransientError

    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise Neo4jServerError(
                f"Neo4j exited with code {code} during start-up. Log tail:\n{log_tail(settings)}"
            )
        try:
            with GraphDatabase.driver(settings.bolt_uri, auth=(NEO4J_USER, password),
                                      connection_timeout=3) as driver:
                driver.verify_connectivity()
                # Bolt answers while the default database may still be starting; the first
                # statement would then fail with DatabaseUnavailable. An auto-commit statement,
                # not execute_query: that retries transient errors for up to 30 s on its own,
                # which would overshoot this loop's deadline.
                with driver.session() as session:
                    session.run("RETURN 1").consume()
            if _http_answers(settings):  # HTTP (Browser) comes up seconds after Bolt
                return
        except AuthError:
            raise Neo4jServerError(
                f"Neo4j started but rejected the password for user '{NEO4J_USER}' at "
                f"{settings.bolt_uri}: the store in {settings.data_dir} was initialised with "
                "another password (NEO4J_PASSWORD differs from the first start?)."
            ) from None
        except (ServiceUnavailable, TransientError, OSError):
            pass
        if time.monotonic() > deadline:
            raise Neo4jServerError(
                f"Neo4j did not answer on {settings.bolt_uri} and port {settings.http_port} "
                f"within {timeout:.0f} s "
                f"(raise SYBILGRAPH_NEO4J_START_TIMEOUT on a busy machine). Log tail:\n"
                f"{log_tail(settings)}"
            )
        time.sleep(0.5)


def _http_answers(settings: ServerSettings) -> bool:
    import urllib.error
    import urllib.request

    try:
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        with no_proxy.open(f"http://127.0.0.1:{settings.http_port}/", timeout=3) as reply:
            return reply.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _terminate(pid: int, grace: float) -> bool:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL. True when it stopped cleanly."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _process_alive(pid):
            return True
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    while _process_alive(pid):
        time.sleep(0.1)
    return False


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _default_stop_signals() -> None:
    """In the server's child process before exec: an ignored or blocked SIGTERM is inherited
    through exec, and the JVM then never shuts down cleanly on `stop` (seen in the suite after
    other libraries had run in the same process: stop waited its full grace, then killed)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _wait_until_ports_free(info: Mapping[str, object], timeout: float) -> None:
    """A stop is over when its ports are free, so an immediate restart on the same ports works.
    Defensive: the flaky restarts seen in the suite came from an inherited ignored SIGTERM
    (see `_default_stop_signals`); this bounds any other slow release of the sockets."""
    ports = [int(info[key]) for key in ("bolt_port", "http_port") if info.get(key)]
    deadline = time.monotonic() + timeout
    while any(port_in_use(port) for port in ports) and time.monotonic() < deadline:
        time.sleep(0.2)


def stop(settings: ServerSettings | None = None, timeout: float = 60, echo: Echo = _quiet) -> bool:
    """Stop the instance (SIGTERM, then SIGKILL after ``timeout`` s). False if it was not running."""
    settings = settings or server_settings()
    info = read_run_info(settings)
    if not info:
        echo(f"Neo4j is not running (instance {settings.instance_dir}).")
        return False
    echo(f"Stopping Neo4j (pid {info['pid']}) ...")
    clean = _terminate(int(info["pid"]), grace=timeout)
    _wait_until_ports_free(info, timeout=30)
    settings.run_file.unlink(missing_ok=True)
    echo("Stopped." if clean else f"Neo4j did not stop within {timeout:.0f} s; killed it.")
    return True


# ----------------------------------------------------------------------------- status + logs


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    version: str
    bolt_uri: str
    browser_url: str
    instance_dir: Path
    password_source: str
    log_file: Path
    store_bytes: int
    transaction_log_bytes: int
    fetched: bool


def _tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def status(settings: ServerSettings | None = None) -> ServerStatus:
    settings = settings or server_settings()
    info = read_run_info(settings)
    running = running_settings(settings)
    version = settings.version
    if info:
        version = _server_version(running) or info.get("version", version)
    if settings.password_file.exists():
        source = f"file {settings.password_file}"
        if os.environ.get("NEO4J_PASSWORD"):
            source += " (NEO4J_PASSWORD is set and is used instead)"
    elif os.environ.get("NEO4J_PASSWORD"):
        source = "NEO4J_PASSWORD (environment)"
    else:
        source = "not set yet (generated on first start)"
    return ServerStatus(
        running=info is not None, pid=info["pid"] if info else None, version=version,
        bolt_uri=running.bolt_uri, browser_url=running.browser_url,
        instance_dir=settings.instance_dir, password_source=source, log_file=settings.log_file,
        store_bytes=_tree_bytes(settings.data_dir / "databases"),
        transaction_log_bytes=_tree_bytes(settings.data_dir / "transactions"),
        fetched=is_fetched(settings),
    )


def _server_version(settings: ServerSettings) -> str | None:
    """Ask the server itself; None when it does not answer (e.g. still starting)."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import DriverError, Neo4jError

    from pipelines.neo4j_client import server_version

    try:
        with GraphDatabase.driver(settings.bolt_uri, auth=(NEO4J_USER, read_password(settings)),
                                  connection_timeout=3) as driver:
            return server_version(driver)
    except (Neo4jError, DriverError, Neo4jServerError, OSError):
        return None


def format_status(st: ServerStatus) -> list[str]:
    """Human-readable lines for ``sybilgraph neo4j status`` (never the password)."""
    lines = [
        f"Neo4j {st.version}: {'running, pid ' + str(st.pid) if st.running else 'stopped'}",
        f"  Bolt:      {st.bolt_uri}  (user {NEO4J_USER})",
        f"  Browser:   {st.browser_url}",
        f"  Password:  {st.password_source}",
        f"  Instance:  {st.instance_dir}",
        f"  Store:     {_human(st.store_bytes)} (+ {_human(st.transaction_log_bytes)} transaction logs)",
        f"  Log:       {st.log_file}",
    ]
    if not st.fetched:
        lines.append("  Jars:      not fetched yet (first `sybilgraph neo4j start` fetches them)")
    return lines


def log_tail(settings: ServerSettings | None = None, lines: int = 40, debug: bool = False) -> str:
    """Last lines of ``neo4j.log`` (or ``debug.log``), without the long classpath dump."""
    settings = settings or server_settings()
    path = settings.logs_dir / ("debug.log" if debug else "neo4j.log")
    if not path.exists():
        console = settings.logs_dir / "console.log"
        if not console.exists():
            return f"(no log yet at {path})"
        path = console
    text = path.read_text(errors="replace").splitlines()
    kept = [line for line in text if not line.lstrip().startswith("[classpath]")]
    return "\n".join(kept[-lines:])


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


if __name__ == "__main__":
    # `python -m pipelines.neo4j_server fetch`: the standard library only, so `make` can fetch
    # the server before (and while) the virtual environment is installed.
    import sys

    if sys.argv[1:] != ["fetch"]:
        raise SystemExit("usage: python -m pipelines.neo4j_server fetch")
    print(fetch_distribution(server_settings(), echo=print))
