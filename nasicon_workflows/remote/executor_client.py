"""Worker-side client of the preloaded job executor: the ``execution_cmd`` of a local worker.

Run as a script with the standard library only (``python -I -S executor_client.py SOCKET JF
RUN_DIR``), so that it starts in milliseconds. It hands the job's run folder, its working folder,
environment and standard streams to the executor listening on ``SOCKET``
(:mod:`nasicon_workflows.remote.executor`), which forks a preloaded child that runs the job
exactly as ``jf -fe execution run RUN_DIR`` does (jobflow-remote's ``run_remote_job``). The client
waits for the child and exits with its exit code; a SIGTERM (``jf job cancel`` killing the
scheduler's process) is passed on to the child.

When no executor listens on ``SOCKET`` the client replaces itself by ``JF -fe execution run
RUN_DIR``: a job never depends on the executor running, it only starts faster with it.

This file must not import anything outside the standard library (``-S`` leaves site-packages
out).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys

#: Bytes of the length prefix of the request.
HEADER = struct.Struct("!Q")


def _fallback(jf: str, run_dir: str) -> None:
    """Run the job in this process's place with jobflow-remote's own command."""
    os.execvp(jf, [jf, "-fe", "execution", "run", run_dir])


def main(argv: list[str]) -> int:
    """Send one job to the executor and wait for it; see the module docstring."""
    if len(argv) != 3:
        print("usage: executor_client.py SOCKET JF RUN_DIR", file=sys.stderr)
        return 2
    socket_path, jf, run_dir = argv
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(socket_path)
    except OSError:
        conn.close()
        _fallback(jf, run_dir)
    payload = json.dumps(
        {"run_dir": run_dir, "cwd": os.getcwd(), "env": dict(os.environ)}
    ).encode()
    sys.stdout.flush()
    sys.stderr.flush()
    socket.send_fds(conn, [HEADER.pack(len(payload))], [0, 1, 2])
    conn.sendall(payload)

    child = None

    def forward(signum, frame):
        if child is not None:
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    reader = conn.makefile("r")
    for line in reader:
        kind, value = line[0], line[1:].strip()
        if kind == "P":
            child = int(value)
        elif kind == "E":
            return int(value)
    print(f"error: the executor's child for {run_dir} ended without an exit code",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
