"""Atomic writes: nothing a reader can open is ever half-written (write to a temp name, then rename).

Temp files and directories are made private by ``tempfile`` (0600 / 0700); once written they get the
permissions an ordinary file would (0666 / 0777 less the umask), so a group server can show Runs and
EventSets made by another account.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: there the lock below is not taken
    fcntl = None


def umask() -> int:
    """The process's umask, read without changing it (os.umask sets it, racing with other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _as_ordinary(path: Path | str, directory: bool = False) -> None:
    """Give a temp file or directory the mode an ordinary one gets (0666 / 0777 less the umask)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    _as_ordinary(tmp)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def temp_sibling(path: Path):
    """A temp file name next to ``path`` for a writer that needs a file name; renamed onto ``path`` on success."""
    from anomalyscope.core.errors import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the output a file name (e.g. {path / ('out' + path.suffix)})")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    _as_ordinary(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_progress(path: Path) -> dict:
    """What a resumable job recorded with ``write_json_atomic`` (its finished points); {} when there is nothing
    usable yet (no file, or not a JSON object: the job starts over)."""
    try:
        d = json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return d if isinstance(d, dict) else {}


def _json_default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def publish_dir(tmp_dir: Path, final: Path, overwrite: bool = False) -> None:
    """Move a finished temp directory into place; an existing target is replaced only with overwrite."""
    tmp_dir, final = Path(tmp_dir), Path(final)
    if final.exists():
        if not overwrite:
            from anomalyscope.core.errors import InputError

            raise InputError(f"{final}: already exists (pass --overwrite to replace it)")
        trash = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, trash)
        os.replace(tmp_dir, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp_dir, final)


@contextmanager
def staging_dir(final: Path):
    """A fresh sibling temp directory that is removed if the block fails."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".staging", dir=final.parent))
    _as_ordinary(tmp, directory=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_writable_dir(path: Path) -> None:
    """Fail early, with the path named, if output cannot be written there (tries a real write)."""
    from anomalyscope.core.errors import InputError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: exists and is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".write-probe-"):
            pass
    except OSError as exc:
        where = f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc)
        raise InputError(f"{path}: output directory is not writable ({where})") from None


@contextmanager
def output_lock(out: Path | str):
    """Hold an exclusive lock on the output ``out`` for the block, so that a second process writing the same
    output is refused at its start (not after minutes of work, at the rename). The lock is on the hidden file
    ``.NAME.lock`` beside ``out``, removed at the end of the block; if the process dies, the operating system
    releases the lock (the stale file is then simply locked again)."""
    from anomalyscope.core.errors import OutputBusy

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    path = out.parent / f".{out.name}.lock"
    while True:
        fh = open(path, "a+")  # noqa: SIM115 (held open for the whole block)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise OutputBusy(out, holder) from None
        try:  # the file locked must still be the one at the path (its holder removes it when done)
            if os.fstat(fh.fileno()).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        fh.close()
    fh.truncate(0)
    fh.write(f"process {os.getpid()}")
    fh.flush()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # removed while still locked, so nothing is left beside the output
        fh.close()
