"""Trains the Rasa NLU model from intents/ into models/, skipping when intents/ is unchanged."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "components")


def intents_hash(intents_dir: Path) -> str:
    """A hash of every file that changes the model: config, domain, data and custom components."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        base = intents_dir / name
        paths = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in paths:
            if path.exists() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(intents_dir)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(models_dir: Path, intents_dir: Path) -> Path:
    return models_dir / f"nlu-{intents_hash(intents_dir)}.tar.gz"


def rasa_executable(root: Path) -> Path:
    return root / ".venv-rasa" / "bin" / "rasa"


INTENTS_DIR = Path(__file__).resolve().parent.parent.parent / "intents"


def rasa_env(intents_dir: Path = INTENTS_DIR) -> dict[str, str]:
    """Rasa runs offline and quietly: no telemetry, no TensorFlow chatter. The intents folder is on
    PYTHONPATH so that `rasa train` and `rasa run` import our custom components (`components.…`)."""
    env = dict(os.environ)
    python_path = [str(intents_dir), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(python_path)),
        }
    )
    return env


class TrainingError(RuntimeError):
    pass


def train(root: Path, intents_dir: Path, models_dir: Path, force: bool = False) -> tuple[Path, bool]:
    """(model file, whether it was trained now). Raises TrainingError with Rasa's last lines."""
    target = model_path(models_dir, intents_dir)
    if target.exists() and not force:
        return target, False
    rasa = rasa_executable(root)
    if not rasa.exists():
        raise TrainingError(f"{rasa} is missing: run `make install` (creates .venv-rasa with Rasa 3.6.21)")
    models_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa),
        "train",
        "nlu",
        "--config",
        "config.yml",
        "--nlu",
        "data/nlu",
        "--out",
        str(models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    proc = subprocess.run(command, cwd=intents_dir, env=rasa_env(), capture_output=True, text=True)
    if proc.returncode != 0 or not target.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise TrainingError(f"rasa train failed (exit {proc.returncode}):\n{tail}")
    return target, True
