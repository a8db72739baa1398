"""Keep a run going after the app closes: a detached `facestudio train --resume RUN`.

A training thread cannot outlive the app's process, so "keep training after the window
closes" is a hand-off: the in-app session stops at a step boundary and writes its
checkpoint, then a separate process resumes the run from exactly there (resume is
exact: weights, optimisers, RNG, data order). The new process is in its own session
(it survives the app and a closed terminal) and writes into the same run folder, so
the training room can follow it later like any command-line run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from facestudio.errors import ConfigError, DiskWriteError
from facestudio.models import run_folder as rd


def background_command(run: str | Path, minutes: float | None = None, python: str | None = None) -> list[str]:
    """The command line that resumes `run`; `minutes`: what is left of a minutes budget."""
    cmd = [python or sys.executable, "-m", "facestudio", "train", "--resume", str(Path(run).resolve()), "--quiet"]
    if minutes is not None:
        cmd += ["--minutes", f"{max(minutes, 0.01):.3f}"]
    return cmd


def continue_in_background(run: str | Path, minutes: float | None = None, python: str | None = None) -> subprocess.Popen:
    """Start the resume as a detached process and return it (the caller shows its pid).

    Call only after the in-app session has finished: two writers in one run folder
    would interleave their logs and checkpoints.
    """
    run = Path(run)
    if not rd.list_checkpoints(run):
        raise ConfigError(f"{run} has no checkpoint yet, so there is nothing to continue from; start the run again instead.")
    try:
        out = open(run / rd.BACKGROUND_LOG, "ab")  # an append-only log, like log.txt
    except OSError as exc:
        raise DiskWriteError(f"Cannot write to the run folder {run}: {exc.strerror or exc}.") from None
    kwargs: dict = {}
    if os.name == "nt":
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True  # not killed with the app or its terminal
    try:
        return subprocess.Popen(background_command(run, minutes, python), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=str(run), close_fds=True, **kwargs)
    finally:
        out.close()  # the child keeps its own copy of the descriptor
