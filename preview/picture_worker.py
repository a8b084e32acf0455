"""Network pictures drawn in a process of their own, so that matplotlib's import and the drawing run on the
second core while the program runs and the policy pack judges.

The preview starts the worker before the stack's program runs; the worker imports matplotlib at once, then
draws each `(view, path, command)` it is sent, in order, and answers with the path written or the error.
One worker serves every stack of a `--all` run.

    python -m preview.picture_worker   # reads pickled jobs on stdin, writes pickled answers on stdout
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import IO

from preview.network import NetworkView

# Where `preview` is importable from, whatever directory the preview was started in.
_IMPORT_ROOT = str(Path(__file__).resolve().parent.parent)


class PictureError(RuntimeError):
    """The worker could not draw a picture; the message carries its traceback."""


class PictureWorker:
    """A running picture worker. `submit` sends a job at once; `result` waits for that job's answer."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (_IMPORT_ROOT, env.get("PYTHONPATH"))))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "preview.picture_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._pending = 0

    def __enter__(self) -> PictureWorker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def submit(self, view: NetworkView, path: Path, command: str) -> None:
        assert self._process.stdin is not None
        pickle.dump((view, path, command), self._process.stdin)
        self._process.stdin.flush()
        self._pending += 1

    def result(self) -> Path:
        """The path of the oldest picture not yet collected."""
        assert self._process.stdout is not None and self._pending > 0
        self._pending -= 1
        try:
            ok, value = pickle.load(self._process.stdout)
        except EOFError:
            raise PictureError(f"the picture worker exited with code {self._process.wait()}") from None
        if not ok:
            raise PictureError(value)
        return value

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()  # the worker ends when its input does
        self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def _serve(jobs: IO[bytes], answers: IO[bytes]) -> None:
    from preview.picture import draw_network  # the import this process exists to take off the main one

    while True:
        try:
            view, path, command = pickle.load(jobs)
        except EOFError:
            return
        try:
            answer = (True, draw_network(view, path, command))
        except Exception:
            answer = (False, traceback.format_exc())
        pickle.dump(answer, answers)
        answers.flush()


if __name__ == "__main__":
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the answers
    _serve(sys.stdin.buffer, answers)
    # Every answer is flushed and the pictures are closed files: tearing matplotlib down would only make the
    # preview, which waits for this process, wait longer (about 0.08 s).
    sys.stderr.flush()
    os._exit(0)
