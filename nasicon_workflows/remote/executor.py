"""A preloaded job executor for jobflow-remote's local worker: jobs start in milliseconds.

jobflow-remote runs every job in a new process (``jf -fe execution run RUN_DIR``), which imports
the ``jf`` command line, jobflow, pymatgen and the module of the job's function before the job
does anything: 2 to 6 s per job on a 2-core machine, more than the job itself for the screen's
small jobs (structures, BVSE at 0.5 Å, records, summaries). jobflow-remote's batch workers
(``batch:`` in a worker) save the queueing system's wait, not this start-up: they too start one
``bash submit.sh`` process per job.

The executor imports those modules once and forks a child per job. The worker's
``execution_cmd`` is the tiny client :mod:`nasicon_workflows.remote.executor_client`, which the
shell scheduler starts as usual; it hands the run folder, working folder, environment and standard
streams to the executor over a Unix socket and waits for the child, whose exit code it returns.
The child runs jobflow-remote's own ``run_remote_job`` (what ``jf execution run`` calls), so the
files, states and outputs are the same as without the executor; the Runner is unchanged.

Each child is a fresh fork of the preloaded executor, so nothing leaks from one job to the next.
Settings that preloaded packages read from the environment at import (jobflow's, and atomate2's
if preloaded) are those of the executor: the defaults do not preload atomate2, so a VASP or
force-field job imports it in its child, under the job's environment (``exec_config`` exports
reach the child).

Without an executor listening, the client runs ``jf -fe execution run`` itself: a job never
depends on the executor, it only starts faster with it. :func:`~nasicon_workflows.remote.run_jobs`
starts and stops the executor of a project written with ``write_project(..., executor=True)``;
with ``jf runner start`` run ``python -m nasicon_workflows.remote executor PROJECT`` beside it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from nasicon_workflows.remote import executor_client
from nasicon_workflows.remote.errors import RemoteSetupError

__all__ = [
    "CLIENT_PATH",
    "DEFAULT_PRELOAD",
    "PreloadedExecutor",
    "executor_command",
    "executor_socket",
    "project_executor_sockets",
    "serve",
]

logger = logging.getLogger(__name__)

#: The client script, run by the worker's ``execution_cmd`` with ``python -I -S``.
CLIENT_PATH = Path(executor_client.__file__).resolve()

#: Modules the executor imports once: jobflow-remote's job runner and the modules of the
#: screen's job functions (with pymatgen, jobflow, pandas and numba behind them). atomate2 is
#: left out on purpose (see the module docstring).
DEFAULT_PRELOAD = (
    "jobflow_remote.jobs.run",
    "maggma.stores",
    "scipy.linalg",
    "pymatgen.symmetry.groups",
    "pymatgen.optimization.neighbors",
    "nasicon_workflows.remote.demo",
    "nasicon_workflows.screen.gate",
    "nasicon_workflows.screen.candidate",
    "nasicon_workflows.screen.aggregate",
    "nasicon_workflows.screen.bvse_maps",
    "nasicon_workflows.structures.jobs",
    "nasicon_workflows.structures._anneal",
    "nasicon_workflows.bvse.jobs",
    "nasicon_workflows.transport.validation",
)

#: How long :class:`PreloadedExecutor` waits for the executor to import and listen, s.
START_TIMEOUT_S = 300.0

_CMD_PATTERN = re.compile(re.escape(CLIENT_PATH.name) + r"\s+(\S+)")


def executor_socket(base_dir: str | os.PathLike) -> str:
    """The executor's socket path for a project folder.

    Unix socket paths are limited to about 100 bytes, so the socket lives in the temporary
    folder under a name derived from the absolute project folder (one executor per project).
    """
    digest = hashlib.sha1(str(Path(base_dir).expanduser().absolute()).encode()).hexdigest()
    return str(Path(tempfile.gettempdir()) / f"nasicon-executor-{digest[:16]}.sock")


def executor_command(socket_path: str, jf_executable: str = "jf") -> str:
    """The worker's ``execution_cmd`` that runs jobs through the executor on ``socket_path``.

    Parameters
    ----------
    socket_path
        The executor's Unix socket (:func:`executor_socket`).
    jf_executable
        The ``jf`` the client falls back to when no executor listens.

    Returns
    -------
    str
        A command with jobflow-remote's ``{}`` placeholder for the run folder.
    """
    parts = [sys.executable, "-I", "-S", str(CLIENT_PATH), socket_path, jf_executable]
    return " ".join(shlex.quote(p) for p in parts) + " {}"


def project_executor_sockets(project) -> list[str]:
    """The executor sockets named by the ``execution_cmd`` of a project's workers."""
    sockets = []
    for worker in project.workers.values():
        match = _CMD_PATTERN.search(worker.execution_cmd or "")
        if match and worker.is_local:
            sockets.append(shlex.split(match.group(1))[0])
    return sorted(set(sockets))


def _listening(socket_path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(socket_path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """The client's request (run folder, working folder, environment) and its 3 stream fds."""
    header = b""
    fds: list[int] = []
    while len(header) < executor_client.HEADER.size:
        data, new_fds, _, _ = socket.recv_fds(conn, executor_client.HEADER.size - len(header), 3)
        if not data:
            raise EOFError("client closed the connection before its request")
        header += data
        fds += new_fds
    (size,) = executor_client.HEADER.unpack(header)
    payload = b""
    while len(payload) < size:
        chunk = conn.recv(min(size - len(payload), 1 << 16))
        if not chunk:
            raise ConnectionError("client closed the connection during its request")
        payload += chunk
    if len(fds) != 3:
        raise ConnectionError(f"expected the client's 3 standard streams, got {len(fds)}")
    return json.loads(payload), fds


def _run_child(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: become the job process the client stands for, run the job, exit."""
    code = 1
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if "numpy" in sys.modules:  # `random` reseeds itself after a fork; numpy's global does not
            sys.modules["numpy"].random.seed()
        conn.sendall(f"P{os.getpid()}\n".encode())
        from jobflow_remote.jobs.run import run_remote_job

        run_remote_job(request["run_dir"])  # what `jf -fe execution run RUN_DIR` calls
        code = 0
    except BaseException:  # noqa: BLE001 - report anything, the process ends here
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001
                pass
        try:
            conn.sendall(f"E{code}\n".encode())
        finally:
            os._exit(code)


def _warm_numba() -> None:
    """Import numba's typing and lowering registries (about 70 modules, 0.6 s), which every
    child would otherwise import on its first call of a jitted function. Starts no thread, so
    forking afterwards is safe; nothing is compiled."""
    if "numba" not in sys.modules:
        return
    from numba.core.registry import cpu_target

    cpu_target.typing_context.refresh()
    cpu_target.target_context.refresh()


def _reap(children: set[int], block: bool) -> None:
    """Forget the children that ended (waiting for one when ``block``)."""
    while children:
        try:
            pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        block = False


def serve(
    socket_path: str, preload: Sequence[str] = DEFAULT_PRELOAD, max_parallel: int | None = None
) -> None:
    """Import ``preload``, listen on ``socket_path`` and fork a child per job, until SIGTERM.

    Prints ``ready SOCKET`` on stdout once it listens.

    Parameters
    ----------
    socket_path
        Unix socket to listen on.
    preload
        Modules to import once, before listening.
    max_parallel
        Jobs running at once (default: the number of CPUs); a job beyond it waits, its client
        blocked, until one ends. This bounds the CPU load even for a worker without
        ``max_jobs``, whose limit makes jobflow-remote's runner query the queue without an
        index (an ``$or``) on every step.

    Raises
    ------
    RemoteSetupError
        Another executor already listens on ``socket_path``.
    """
    for module in preload:
        importlib.import_module(module)
    _warm_numba()
    if _listening(socket_path):
        raise RemoteSetupError(f"an executor already listens on {socket_path}")
    limit = max(1, int(max_parallel or os.cpu_count() or 1))
    Path(socket_path).unlink(missing_ok=True)  # left by an executor that was killed
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)

    def stop(signum, frame):
        raise SystemExit(0)

    # from the bind on, every way out (a SIGTERM just after "ready" included) removes the socket
    try:
        server.listen(1024)  # every job of a screen may be waiting at once
        signal.signal(signal.SIGTERM, stop)
        children: set[int] = set()
        print(f"ready {socket_path}", flush=True)
        # Nothing reads stdout after this line: a later print must not fill a pipe and block.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        while True:
            conn, _ = server.accept()
            fds: list[int] = []
            try:
                request, fds = _receive(conn)
                _reap(children, block=False)
                while len(children) >= limit:
                    _reap(children, block=True)
                pid = os.fork()
                if pid == 0:
                    server.close()
                    _run_child(conn, request, fds)
                children.add(pid)
            except EOFError:
                pass  # a probe (`_listening`) that connected and left
            except (ConnectionError, OSError, ValueError) as exc:
                logger.warning("executor: refused a request: %s", exc)
            finally:
                for fd in fds:
                    os.close(fd)
                conn.close()
    finally:
        server.close()
        Path(socket_path).unlink(missing_ok=True)


class PreloadedExecutor:
    """The executor as a child process of this one, for the length of a ``with`` block.

    Nothing is started when an executor already listens on the socket (e.g. one started by
    ``python -m nasicon_workflows.remote executor``).

    Parameters
    ----------
    socket_path
        Unix socket to listen on (:func:`executor_socket`).
    preload
        Modules imported once by the executor.
    max_parallel
        Jobs running at once (default: the number of CPUs).
    """

    def __init__(self, socket_path: str, preload: Sequence[str] = DEFAULT_PRELOAD,
                 max_parallel: int | None = None):
        self.socket_path = socket_path
        self.preload = tuple(preload)
        self.max_parallel = max_parallel
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PreloadedExecutor:
        if _listening(self.socket_path):
            logger.info("executor already listening on %s", self.socket_path)
            return self
        cmd = [sys.executable, "-m", "nasicon_workflows.remote.executor", self.socket_path,
               *self.preload]
        if self.max_parallel is not None:
            cmd += ["--max-parallel", str(self.max_parallel)]
        with open(self.log_path, "wb") as log:  # the executor's warnings, never a full pipe
            self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        output = b""
        while time.monotonic() < deadline and b"ready " not in output:
            ready, _, _ = select.select([self.process.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    break
                output += chunk
        if b"ready " not in output:
            self._stop()
            tail = self._log_tail()
            Path(self.log_path).unlink(missing_ok=True)
            raise RemoteSetupError(
                f"the preloaded executor did not start on {self.socket_path}: "
                f"{tail or 'no output'}"
            )
        logger.info("executor listening on %s (pid %d)", self.socket_path, self.process.pid)
        return self

    @property
    def log_path(self) -> str:
        """The executor's stderr (warnings, import errors)."""
        return self.socket_path + ".log"

    def _log_tail(self) -> str:
        try:
            lines = Path(self.log_path).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-3:])

    def _stop(self) -> int | None:
        """Terminate the executor (if this object started it); its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        code, self.process = self.process.returncode, None
        return code

    def __exit__(self, *exc_info) -> None:
        started = self.process is not None
        code = self._stop()
        if code not in (None, 0):  # it ended on its own before the block did
            logger.warning("the preloaded executor on %s ended with code %s: %s",
                           self.socket_path, code, self._log_tail())
        if started:
            Path(self.log_path).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nasicon_workflows.remote.executor SOCKET [MODULE ...] [--max-parallel N]``:
    serve until SIGTERM; 2 and one ``error:`` line on bad input."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m nasicon_workflows.remote.executor",
                                     description="preloaded job executor of a local worker")
    parser.add_argument("socket", help="Unix socket to listen on")
    parser.add_argument("modules", nargs="*",
                        help=f"modules to preload (default {DEFAULT_PRELOAD})")
    parser.add_argument("--max-parallel", type=int, help="jobs at once (default: CPUs)")
    args = parser.parse_args(argv)
    if args.max_parallel is not None and args.max_parallel < 1:
        print(f"error: --max-parallel must be >= 1, got {args.max_parallel}", file=sys.stderr)
        return 2
    try:
        serve(args.socket, args.modules or DEFAULT_PRELOAD, args.max_parallel)
    except (RemoteSetupError, ImportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
