"""Reading and appending files in folders a visitor may have influenced (a runs folder, checkpoint folders).

Every open walks from a trusted folder (`root`) one component at a time with `dir_fd`, refusing a
link at every step (O_NOFOLLOW), and checks after the open that it got a regular file (fstat, so
a swap between a check and the open cannot trick it). Reads are bounded in bytes: a file larger
than the caller's limit is refused, never read to its end. So a link to /etc/passwd, /dev/zero, a
FIFO or a linked folder is refused with a sentence instead of being read, followed or waited on.

    data = read_below(runs_dir, runs_dir / "job-id" / "job.json", 1_000_000)
    tail = tail_below(runs_dir, runs_dir / "job-id" / "log.txt", 6000)
    with append_below(runs_dir, runs_dir / "job-id" / "log.txt") as f: f.write(b"line\n")

The root itself may be a link: the host chose it. Only what lies below it is untrusted.
"""

import errno
import os
import stat
from pathlib import Path

import i18n


class RefusedFile(i18n.Sentence):
    """A file that is a link, lies behind one, is not a regular file, or is larger than its kind allows."""


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO for reading must not wait for a writer (it is refused right after).
_FILE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK


def _parts(root: Path, path: Path) -> tuple[str, ...]:
    try:
        parts = Path(path).relative_to(root).parts
    except ValueError:
        raise RefusedFile("genmodels.files.outside", name=Path(path).name) from None
    if not parts or any(p in ("..", ".") for p in parts):
        raise RefusedFile("genmodels.files.outside", name=Path(path).name)
    return parts


def _open(root, path, flags: int, mode: int = 0o644) -> int:
    """Return a file descriptor of the regular file `path` below `root`, opened without following any link."""
    root, path = Path(root), Path(path)
    parts = _parts(root, path)
    name = "/".join(parts[-2:])
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=folder)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise RefusedFile("genmodels.files.linked_folder", name=name) from None
                raise
            os.close(folder)
            folder = inner
        try:
            fd = os.open(parts[-1], flags | _FILE_FLAGS, mode, dir_fd=folder)
        except OSError as error:
            if error.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                raise RefusedFile("genmodels.files.link", name=name) from None
            raise
    finally:
        os.close(folder)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise RefusedFile("genmodels.files.special", name=name)
    os.set_blocking(fd, True)
    return fd


def _too_large(path, max_bytes: int) -> RefusedFile:
    return RefusedFile("genmodels.files.too_large", name="/".join(Path(path).parts[-2:]), limit=f"{max_bytes:,}")


def read_below(root, path, max_bytes: int) -> bytes:
    """Return the bytes of the regular file `path` below `root` (RefusedFile when it is a link, special or
    over `max_bytes`; FileNotFoundError when missing)."""
    fd = _open(root, path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        if os.fstat(fd).st_size > max_bytes:
            raise _too_large(path, max_bytes)
        data = f.read(max_bytes + 1)  # bounded even if the file grows while we read
    if len(data) > max_bytes:
        raise _too_large(path, max_bytes)
    return data


def tail_below(root, path, max_bytes: int) -> bytes:
    """Return at most the last `max_bytes` bytes of the regular file `path` below `root` (as read_below refuses)."""
    fd = _open(root, path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        f.seek(max(0, size - max_bytes))
        return f.read(max_bytes)


def read_from(root, path, offset: int, max_bytes: int) -> tuple[bytes, int]:
    """Return (at most `max_bytes` bytes of `path` below `root` from `offset`, the file's size now), as read_below refuses."""
    fd = _open(root, path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        size = os.fstat(fd).st_size
        if offset > size:
            return b"", size
        f.seek(offset)
        return f.read(max_bytes), size


def append_below(root, path):
    """Return a binary file object appending to the regular file `path` below `root` (created if missing;
    RefusedFile when it is a link or special)."""
    return os.fdopen(_open(root, path, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "ab")


def is_real_folder(path) -> bool:
    """Return True when `path` is a folder and not a link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def is_real_file(path) -> bool:
    """Return True when `path` is a regular file and not a link to one."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
