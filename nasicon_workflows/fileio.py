"""One output-path policy and one atomic-write helper for every command and stage.

Every file the package writes goes through :func:`atomic_write_text`/:func:`atomic_write_bytes`
(or :func:`atomic_savefig` for figures): the content is written to a temporary file in the same
folder, flushed and moved into place with :func:`os.replace`, so readers (and a resumed run after
``kill -9``) see the old file or the new one, never a part of one.

Commands resolve their output paths once, at the start, with :func:`resolve_output_dir` /
:func:`resolve_output_file`, which make them absolute and check that they can be written
*before* any computation, raising :class:`OutputPathError` (one clear line, exit 2 in the CLI).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "OutputLockedError",
    "OutputPathError",
    "check_output_file_writable",
    "describe_os_error",
    "output_lock",
    "staged_output_dir",
    "write_output_text",
    "apply_umask",
    "atomic_savefig",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "resolve_output_dir",
    "resolve_output_file",
]


class OutputPathError(NasiconWorkflowsError, OSError):
    """An output path that cannot be written (a file where a folder should be, no permission,
    a full device ...)."""


class OutputLockedError(NasiconWorkflowsError, RuntimeError):
    """Another process holds the lock of an output folder (a concurrent run on the same folder)."""


def apply_umask(path: str | Path) -> None:
    """Give a temporary file the permissions a plain ``open`` would (mkstemp makes them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def describe_os_error(exc: OSError) -> str:
    """A short plain-language reason for an ``OSError`` (for one-line error messages)."""
    return _describe(exc)


def _describe(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    if exc.errno == errno.ENOTDIR:
        return "a file stands where a folder should be"
    if exc.errno == errno.EISDIR:
        return "it is a folder"
    return exc.strerror or str(exc)


def atomic_write(path: str | Path, writer: Callable[[str], None]) -> Path:
    """Call ``writer(tmp_path)`` and move the temporary file over ``path`` atomically.

    Parameters
    ----------
    path
        Destination file; its folder is created if needed.
    writer
        Writes the complete content to the temporary path it is given.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    OutputPathError
        When the folder or file cannot be written; no partial file is left behind.
    """
    path = Path(path)
    if _is_device(path):
        # os.replace would swap the device node (e.g. /dev/full, as root) for a regular file
        raise OutputPathError(
            f"cannot write {path} atomically: it is a device or pipe, not a regular file"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise OutputPathError(f"cannot write {path}: {_describe(exc)}") from exc
    try:
        writer(tmp)
        apply_umask(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputPathError(f"cannot write {path}: {_describe(exc)}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _write_with(data: bytes) -> Callable[[str], None]:
    def writer(tmp: str) -> None:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    return writer


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, _write_with(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, _write_with(text.encode("utf-8")))


def atomic_savefig(fig, path: str | Path, **kwargs) -> Path:
    """Save a matplotlib figure atomically; the format follows the suffix of ``path``."""
    path = Path(path)
    kwargs.setdefault("dpi", 150)
    kwargs.setdefault("bbox_inches", "tight")
    fmt = kwargs.pop("format", path.suffix.lstrip(".") or "png")
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, **kwargs))


def _probe_dir(folder: Path) -> None:
    """Check that ``folder`` exists or can be made, and that a file can be created in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputPathError(f"cannot write to {folder}: a file stands where a folder should be") from exc
    except OSError as exc:
        raise OutputPathError(f"cannot write to {folder}: {_describe(exc)}") from exc
    if not folder.is_dir():
        raise OutputPathError(f"cannot write to {folder}: it is not a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".write-probe.")
        try:
            os.write(fd, b"x")
            os.fsync(fd)
        finally:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot write to {folder}: {_describe(exc)}") from exc


def _nearest_existing(folder: Path) -> Path:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _probe_without_creating(folder: Path) -> None:
    """Check that ``folder`` could be created and written, leaving nothing behind."""
    if folder.exists():
        if not folder.is_dir():
            raise OutputPathError(f"cannot write to {folder}: a file stands where a folder should be")
        _probe_dir(folder)
        return
    base = _nearest_existing(folder)
    if not base.is_dir():
        raise OutputPathError(f"cannot write to {folder}: {base} is a file, not a folder")
    try:
        tmp = tempfile.mkdtemp(dir=base, prefix=".write-probe.")
    except OSError as exc:
        raise OutputPathError(f"cannot write to {folder}: {_describe(exc)} in {base}") from exc
    os.rmdir(tmp)


def resolve_output_dir(path: str | Path, create: bool = True) -> Path:
    """The absolute form of an output folder, checked to be writable.

    Call once at the start of a command, before any computation, and use only the returned path
    (jobs may change the working directory, so a relative path would point elsewhere later).

    Parameters
    ----------
    path
        The folder as the user gave it (relative paths are taken from the current directory).
    create
        Create the folder now (default). With False the folder is only checked (its nearest
        existing parent must accept a new entry) and nothing is left on disk, so that a command
        that later stops on bad input leaves no empty folder behind.

    Raises
    ------
    OutputPathError
        A file where a folder should be, no permission, a read-only file system ...
    """
    folder = Path(path).expanduser().absolute()
    if create:
        _probe_dir(folder)
    else:
        _probe_without_creating(folder)
    return folder


def resolve_output_file(path: str | Path) -> Path:
    """The absolute form of an output file whose folder is checked to be writable.

    ``/dev/full`` and other character devices are accepted as written to directly by the caller;
    a folder given where a file is expected is refused.
    """
    target = Path(path).expanduser().absolute()
    check_output_file_writable(target)
    return target


def check_output_file_writable(target: Path) -> None:
    """Raise :class:`OutputPathError` unless the file ``target`` (absolute) can be written.

    Missing parent folders are not created; only a probe file is made and removed again.
    """
    if target.is_dir():
        raise OutputPathError(f"cannot write {target}: it is a folder, a file name is needed")
    if target.exists() and not target.is_file():
        # A device such as /dev/full: probe it directly.
        try:
            with open(target, "wb") as handle:
                handle.write(b"")
                handle.flush()
        except OSError as exc:
            raise OutputPathError(f"cannot write {target}: {_describe(exc)}") from exc
        return
    if target.parent.exists():
        if not target.parent.is_dir():
            raise OutputPathError(
                f"cannot write {target}: {target.parent} is a file, not a folder"
            )
        _probe_dir(target.parent)
    else:
        _probe_without_creating(target.parent)
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputPathError(f"cannot write {target}: permission denied")


def _is_device(path: Path) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def write_output_text(path: str | Path, text: str) -> Path:
    """Write a command's output file: atomically for a regular file, directly for a device or
    pipe the user named (``/dev/stdout``, ``/dev/full`` ...), with every failure turned into an
    :class:`OutputPathError` and no partial regular file left behind."""
    path = Path(path)
    if not _is_device(path):
        return atomic_write_text(path, text)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
    except OSError as exc:
        raise OutputPathError(f"cannot write {path}: {_describe(exc)}") from exc
    return path


@contextlib.contextmanager
def staged_output_dir(folder: str | Path) -> Iterator[Path]:
    """A temporary folder inside ``folder`` for writers that produce several files (library
    functions that write with plain ``open``); on success every file is moved into ``folder``
    with :func:`os.replace`, on failure the temporary folder is removed and the error is raised
    as an :class:`OutputPathError`. Either way no partial file appears in ``folder``.
    """
    folder = Path(folder)
    created = []  # folders made here, removed again (if still empty) when the block fails
    probe = folder
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=folder, prefix=".staging."))
    except OSError as exc:
        raise OutputPathError(f"cannot write to {folder}: {_describe(exc)}") from exc
    ok = False
    try:
        yield stage
        for source in sorted(stage.rglob("*")):
            if source.is_dir():
                continue
            target = folder / source.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            apply_umask(source)
            os.replace(source, target)
        ok = True
    except OSError as exc:
        raise OutputPathError(f"cannot write to {folder}: {_describe(exc)}") from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not ok:
            for made in created:
                with contextlib.suppress(OSError):
                    made.rmdir()


@contextlib.contextmanager
def output_lock(folder: str | Path, timeout_s: float = 0.0, what: str = "run") -> Iterator[Path]:
    """Hold an exclusive lock on an output folder for the duration of a run.

    The lock is an OS-level lock (``filelock``) on ``folder/.nasicon-workflows.lock``: it is
    released when the process ends, also after ``kill -9``, so a stale lock file never blocks.

    Parameters
    ----------
    folder
        The (absolute) output folder; created if needed.
    timeout_s
        How long a second run waits for the first one; 0 (default) gives up at once.
    what
        Name of the run for the message.

    Raises
    ------
    OutputLockedError
        Another process holds the lock after ``timeout_s`` seconds.
    """
    from filelock import FileLock, Timeout

    folder = Path(folder)
    lock_path = folder / ".nasicon-workflows.lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot write to {folder}: {_describe(exc)}") from exc
    lock = FileLock(str(lock_path), timeout=max(0.0, float(timeout_s)))
    try:
        lock.acquire()
    except Timeout:
        waited = f" after waiting {timeout_s:g} s" if timeout_s > 0 else ""
        raise OutputLockedError(
            f"another {what} is using {folder} (lock {lock_path.name} held by a running "
            f"process{waited}): wait for it to finish, pass a longer --lock-timeout, or use "
            "another output folder"
        ) from None
    except OSError as exc:
        raise OutputPathError(f"cannot lock {folder}: {_describe(exc)}") from exc
    try:
        yield folder
    finally:
        lock.release()
