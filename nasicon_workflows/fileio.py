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

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "OutputPathError",
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


def apply_umask(path: str | Path) -> None:
    """Give a temporary file the permissions a plain ``open`` would (mkstemp makes them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


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


def resolve_output_dir(path: str | Path) -> Path:
    """The absolute form of an output folder, created if needed and checked to be writable.

    Call once at the start of a command, before any computation, and use only the returned path.
    """
    folder = Path(path).expanduser().absolute()
    _probe_dir(folder)
    return folder


def resolve_output_file(path: str | Path) -> Path:
    """The absolute form of an output file whose folder is checked to be writable.

    ``/dev/full`` and other character devices are accepted as written to directly by the caller;
    a folder given where a file is expected is refused.
    """
    target = Path(path).expanduser().absolute()
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
        return target
    _probe_dir(target.parent)
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputPathError(f"cannot write {target}: permission denied")
    return target
