"""Starts `rasa run` so that it cannot outlive the bot that started it, and keeps its auth token off the
command line.

Run as a script by Rasa's own interpreter (.venv-rasa, Python 3.10), so it imports nothing from the bot.
It asks Linux to send SIGTERM to this process when its parent dies (prctl PR_SET_PDEATHSIG), which holds
even when the parent is SIGKILLed and cannot stop its children, and then becomes Rasa in the same process
(Rasa serves from this one process: it holds the port). The token comes through the environment, readable
only by the same user, where a command line is readable by every user of the machine (`ps`).
"""

import sys

if __name__ == "__main__":
    # Run as a script, this file's folder is first on sys.path, and the bot's modules there (types.py,
    # client.py...) would shadow the standard library's and Rasa's. Nothing but the interpreter ran before.
    del sys.path[0]

import ctypes  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

PR_SET_PDEATHSIG = 1
PARENT_VARIABLE = "INFOBOT_RASA_PARENT"
TOKEN_VARIABLE = "INFOBOT_RASA_AUTH_TOKEN"


def die_with_parent(parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    if os.getppid() != parent:  # the parent died before the request took effect: nobody would stop us
        sys.exit(f"rasa launcher: parent {parent} already gone")


def main() -> None:
    die_with_parent(int(os.environ.pop(PARENT_VARIABLE)))
    token = os.environ.pop(TOKEN_VARIABLE, "")
    # One argument with "=": a token may begin with "-", which would read as an option on its own.
    sys.argv = ["rasa", *sys.argv[1:], *([f"--auth-token={token}"] if token else [])]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
