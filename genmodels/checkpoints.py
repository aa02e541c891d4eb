"""Checkpoint folders: config.json beside model.safetensors (and optional extra tensor files).

Layout of a folder:
    config.json                 model_type, model config, training settings, metrics, versions,
                                and the SHA-256 of every tensor file (so a corrupted or half-copied file is caught; not a
                                defence against tampering, since whoever can edit a tensor file can edit config.json too)
    model.safetensors           the weights the app loads (best on validation)
    latent.safetensors          VAE only: the latent analysis the explorer needs
    training_state.safetensors  optional: last-epoch weights + optimizer state, for --resume

Nothing is ever unpickled. A save writes a complete new folder beside the old one and swaps it
in with renames, so a crash mid-save leaves the previous checkpoint intact (see `write_folder`).
"""

import dataclasses
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save_file

import i18n

from .files import RefusedFile, read_below
from .images import resolve_device

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
LATENT_FILE = "latent.safetensors"
TRAINING_STATE_FILE = "training_state.safetensors"
FORMAT_VERSION = 1
LIBRARY_VERSION = "0.2.0"  # genmodels.__version__, recorded in every checkpoint
MAX_CONFIG_BYTES = 10_000_000  # a config.json with a 1,000-epoch history is well under 1 MB
# Model settings renamed since checkpoints were first written, per model type: old key -> new key.
# Every model calls its hidden width hidden_size now; runs folders of older versions say hidden_dim.
RENAMED_MODEL_KEYS = {"vae": {"hidden_dim": "hidden_size"}}
# A tensor file is read whole (hashed, then parsed from memory), so it is bounded: the largest the
# form's settings allow, with optimizer state, is far smaller.
MAX_TENSOR_BYTES = 1_000_000_000


def library_versions() -> dict:
    """Return the versions recorded in every checkpoint."""
    return {"genmodels": LIBRARY_VERSION, "torch": torch.__version__, "format": FORMAT_VERSION}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def atomic_write(path, data: bytes | str, mode: int | None = None) -> None:
    """Replace the file at `path` by `data` (text is UTF-8) so a reader sees the old or the new file, never half.

    Written to a hidden sibling, flushed to disk, given `mode` (e.g. 0o600) if set, then renamed over the target.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def file_signature(*paths: Path) -> tuple:
    """Return (mtime ns, size, inode) of each path (None when missing): equal signatures mean unchanged files."""
    out = []
    for path in paths:
        try:
            st = path.stat()
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def write_folder(folder, config: dict, tensor_files: dict[str, dict[str, torch.Tensor]]) -> Path:
    """Write config.json and tensor files into `folder` atomically (see `_replace_folder`); return the folder path."""
    def fill(staging: Path) -> None:
        files = {}
        for name, tensors in tensor_files.items():
            path = staging / name
            save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(path))
            _fsync_file(path)
            files[name] = _sha256(path)
        with open(staging / CONFIG_FILE, "w") as f:
            json.dump(dict(config, files=files, versions=library_versions()), f, indent=2, sort_keys=False)
            f.flush()
            os.fsync(f.fileno())

    return _replace_folder(folder, fill)


def copy_folder(source, target) -> Path:
    """Copy the checkpoint folder `source` over `target` atomically, as a save would; return `target`."""
    return _replace_folder(target, lambda staging: shutil.copytree(resolve_folder(source), staging, dirs_exist_ok=True))


def _replace_folder(folder, fill) -> Path:
    """Replace `folder` by a new version that `fill(staging)` writes into a hidden sibling folder.

    Then the old folder is renamed aside, the new one renamed into place and the old one deleted.
    A crash before the swap leaves the old folder untouched; a crash between the two renames is
    repaired by `recover_folder`. Files of the old folder are not carried over: the new folder is
    exactly what `fill` wrote.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(folder)  # one writer per folder: what a crashed save left behind is ours to tidy
    tag = uuid.uuid4().hex[:8]
    staging = folder.parent / f".{folder.name}.tmp-{tag}"
    staging.mkdir()
    try:
        fill(staging)
        retired = None
        if folder.exists():
            retired = folder.parent / f".{folder.name}.old-{tag}"
            os.replace(folder, retired)
        os.replace(staging, folder)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        recover_folder(folder)
        raise
    return folder


def _retired_versions(folder: Path) -> list[Path]:
    """Previous versions renamed aside by a save in progress (or one that crashed mid-swap), newest last."""
    found = [p for p in folder.parent.glob(f".{folder.name}.old-*") if p.is_dir()]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def resolve_folder(folder) -> Path:
    """Return where a checkpoint's files are right now: the folder itself or, while a save swaps it
    (or after a crash mid-swap), the previous version renamed aside. Never renames anything, so
    readers cannot disturb a writer."""
    folder = Path(folder)
    if folder.is_dir() or not folder.parent.is_dir():
        return folder
    retired = _retired_versions(folder)
    return retired[-1] if retired else folder


def recover_folder(folder) -> None:
    """Writer side: put back a folder left renamed aside by a crashed save and delete stale staging folders."""
    folder = Path(folder)
    if not folder.parent.is_dir():
        return
    for staging in folder.parent.glob(f".{folder.name}.tmp-*"):
        shutil.rmtree(staging, ignore_errors=True)
    retired = _retired_versions(folder)
    if retired and not folder.exists():
        os.replace(retired.pop(), folder)
    for old in retired:
        shutil.rmtree(old, ignore_errors=True)


def shown(folder, name: str = "") -> str:
    """Return how messages name a checkpoint folder (or a file in it): its last two path parts, never the
    server's full path (messages reach visitors of the app), e.g. 'checkpoints/vae-mnist/config.json'."""
    path = Path(*Path(folder).parts[-2:])
    return str(path / name if name else path)


def read_config(folder) -> dict:
    """Return the parsed config.json of a checkpoint folder, or raise a ValueError saying what is wrong."""
    folder = Path(folder)
    for _ in range(3):
        try:
            return _read_config_at(resolve_folder(folder), folder)
        except FileNotFoundError:
            time.sleep(0.05)  # a save swapped the folder while we looked: look again
    raise i18n.Sentence("genmodels.checkpoints.no_folder", folder=shown(folder))


def _read_config_at(where: Path, folder: Path) -> dict:
    if not where.is_dir():
        raise i18n.Sentence("genmodels.checkpoints.no_folder", folder=shown(folder))
    try:
        # Read from the folder holding the checkpoint, following no link below it (genmodels.files).
        data = read_below(where.parent, where / CONFIG_FILE, MAX_CONFIG_BYTES)
    except RefusedFile as e:
        raise i18n.Sentence("genmodels.checkpoints.unusable", file=shown(folder, CONFIG_FILE), problem=e) from None
    except FileNotFoundError:
        if not where.is_dir():
            raise  # a save swapped the folder while we looked: read_config looks again
        raise i18n.Sentence("genmodels.checkpoints.no_config", file=shown(folder, CONFIG_FILE), config=CONFIG_FILE,
                            weights=WEIGHTS_FILE) from None
    except OSError as e:
        raise i18n.Sentence("genmodels.checkpoints.unreadable", file=shown(folder, CONFIG_FILE), kind=type(e).__name__) from None
    try:
        config = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # RecursionError: JSON nested thousands deep
        raise i18n.Sentence("genmodels.checkpoints.not_json", file=shown(folder, CONFIG_FILE),
                            kind=type(e).__name__) from None
    if not isinstance(config, dict) or not isinstance(config.get("model_type"), str) or "model" not in config:
        raise i18n.Sentence("genmodels.checkpoints.not_ours", file=shown(folder, CONFIG_FILE))
    if not isinstance(config.get("files", {}), dict):
        raise i18n.Sentence("genmodels.checkpoints.bad_files", file=shown(folder, CONFIG_FILE))
    if isinstance(config["model"], dict):  # a checkpoint written before a rename loads as it did
        config["model"] = current_model_settings(config["model_type"], config["model"])
    return config


def current_model_settings(model_type: str, settings: dict) -> dict:
    """Return a model's saved settings under today's names (RENAMED_MODEL_KEYS), for configs of older versions."""
    renamed = dict(settings)
    for old, new in RENAMED_MODEL_KEYS.get(model_type, {}).items():
        if old in renamed and new not in renamed:
            renamed[new] = renamed.pop(old)
    return renamed


def load_tensor_file(folder, name: str, config: dict | None = None) -> dict[str, torch.Tensor]:
    """Return the tensors of `name` in a checkpoint folder after checking it against config.json."""
    folder = Path(folder)
    config = read_config(folder) if config is None else config
    path = resolve_folder(folder) / name
    where = shown(folder, name)  # messages name the checkpoint, not where a save moved it meanwhile
    try:
        # One bounded read of a regular file (no link followed), then hashed and parsed from memory:
        # a link to /dev/zero is refused instead of hashed forever.
        data = read_below(folder.parent, path, MAX_TENSOR_BYTES)
        expected = config.get("files", {}).get(name)
        if expected is not None and hashlib.sha256(data).hexdigest() != expected:
            raise i18n.Sentence("genmodels.checkpoints.digest", file=where, config=CONFIG_FILE)
        return load(data)
    except RefusedFile as e:
        raise i18n.Sentence("genmodels.checkpoints.unusable", file=where, problem=e) from None
    except FileNotFoundError:
        raise i18n.Sentence("genmodels.checkpoints.missing", file=where) from None
    except (SafetensorError, OSError) as e:
        # the type, not the text: an OSError's text holds the full path
        raise i18n.Sentence("genmodels.checkpoints.not_safetensors", file=where, kind=type(e).__name__) from None


def has_file(folder, name: str) -> bool:
    """Return True when the checkpoint's config.json lists `name`."""
    return name in read_config(folder).get("files", {})


def check_state_dict(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise a ValueError naming the first missing, unexpected or wrongly shaped tensor."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing:
        raise i18n.Sentence("genmodels.checkpoints.lacks_tensor", source=source, tensor=missing[0], more=len(missing) - 1)
    if unexpected:
        raise i18n.Sentence("genmodels.checkpoints.unexpected_tensor", source=source, tensor=unexpected[0])
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise i18n.Sentence("genmodels.checkpoints.shape", source=source, tensor=key,
                                shape=str(tuple(state[key].shape)), expected=str(tuple(tensor.shape)))


def flatten_optimizer_state(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state_dict into safetensors-storable tensors and JSON-storable values."""
    tensors, scalars = {}, {}
    for param_id, param_state in state["state"].items():
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{param_id}.{key}"] = value
            else:
                scalars[f"{param_id}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def unflatten_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """Rebuild an optimizer state_dict from `flatten_optimizer_state`'s two halves."""
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, param_id, key = name.split(".", 2)
            state.setdefault(int(param_id), {})[key] = value
    for name, value in meta.get("scalars", {}).items():
        param_id, key = name.split(".", 1)
        state.setdefault(int(param_id), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


class PretrainedMixin:
    """Adds `save_pretrained` / `from_pretrained` to a model with `model_type` and `config_class`."""

    model_type: str
    config_class: type

    def save_pretrained(self, folder, metadata: dict | None = None,
                        extra_files: dict[str, dict[str, torch.Tensor]] | None = None) -> Path:
        """Write this model (config + weights, plus `metadata` and extra tensor files) to `folder`."""
        config = dict(metadata or {})
        config.update(model_type=self.model_type, model=dataclasses.asdict(self.config))
        files = {WEIGHTS_FILE: self.state_dict()}
        files.update(extra_files or {})
        return write_folder(folder, config, files)

    @classmethod
    def from_pretrained(cls, folder, device=None):
        """Load a checkpoint folder and return the model in eval mode on `device` (default: auto)."""
        for attempt in range(3):
            config = read_config(folder)
            try:
                model = cls._from_config(folder, config)
                break
            except ValueError:
                # A save may have replaced the folder between reading config.json and the weights:
                # then config.json lists new digests and a second read gets a consistent pair.
                if attempt == 2 or read_config(folder).get("files") == config.get("files"):
                    raise
        return model.to(resolve_device(device)).eval()

    @classmethod
    def _from_config(cls, folder, config: dict):
        if config["model_type"] != cls.model_type:
            raise i18n.Sentence("genmodels.checkpoints.wrong_type", folder=shown(folder), found=config["model_type"],
                                wanted=cls.model_type)
        settings = config["model"]
        try:
            if not isinstance(settings, dict):
                raise TypeError("'model' must be an object of settings")
            model_config = cls.config_class(**settings)  # its __post_init__ checks types and ranges
        except (TypeError, ValueError) as e:
            raise i18n.Sentence("genmodels.checkpoints.settings", file=shown(folder, CONFIG_FILE), problem=e) from None
        model = cls(model_config)
        state = load_tensor_file(folder, WEIGHTS_FILE, config)
        check_state_dict(model, state, shown(folder, WEIGHTS_FILE))
        model.load_state_dict(state)
        model.checkpoint_info = config  # metadata (data set, metrics, ...) for the app to show
        return model
