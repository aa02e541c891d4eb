"""What a page needs to run the decoder and the reader itself: the script and the models' weights.

The drag loop of a whole class cannot go through one 2-vCPU server (README, "Hosting for a
class"), and the models are tiny, so the page decodes and reads in the browser
(ui/static/latent_lab.js). The server hands out, once per model, one safetensors file with the
VAE's decoder (float16: half the bytes, and its pixels stay within 1/255 of float32) and the
RNN reader's weights (float32: its probabilities compound 28 steps of rounding), at a URL named
by the file's SHA-256 so a browser caches it for good and never fetches the same model twice.

    GET /latent-lab/static/latent_lab.js                  the script
    GET /latent-lab/models/<vae name>?reader=<rnn name>   {"weights": url, "latent_dim": d, ...}
    GET /latent-lab/weights/<sha256>.safetensors          immutable bytes
"""

import hashlib
import json
import threading
from pathlib import Path

import torch
from safetensors.torch import save as safetensors_bytes
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

STATIC_DIR = Path(__file__).resolve().parent / "static"
SCRIPT = "latent_lab.js"
PREFIX = "/latent-lab"
SCRIPT_URL = f"{PREFIX}/static/{SCRIPT}"
NO_READER = "none"  # as ui/explore/models.py: the page asked for no reader
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


def weights_file(vae, rnn) -> bytes:
    """Return one safetensors file holding the decoder of `vae` and all of `rnn` (None: no reader).

    Its metadata says how to run them: latent size, likelihood, cell, layers, hidden size.
    """
    tensors = {f"decoder.{name}": t.detach().to("cpu", torch.float16).contiguous()
               for name, t in vae.state_dict().items() if name.startswith(("fc3.", "fc4."))}
    metadata = {"latent_dim": str(vae.config.latent_dim), "likelihood": vae.config.likelihood}
    if rnn is not None:
        tensors.update({f"reader.{name}": t.detach().to("cpu", torch.float32).contiguous()
                        for name, t in rnn.state_dict().items()})
        metadata.update(cell=rnn.config.cell, num_layers=str(rnn.config.num_layers),
                        hidden_size=str(rnn.config.hidden_size), num_classes=str(rnn.config.num_classes))
    return safetensors_bytes(tensors, metadata=metadata)


class InPageModels:
    """Serves the script and the weights files of the registry's models (each built once, kept in memory)."""

    def __init__(self, registry):
        self.registry = registry
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}  # sha256 -> file
        self._named: dict[tuple, tuple[str, dict]] = {}  # (vae, reader, weights stamps) -> (sha256, description)

    def describe(self, vae_name: str, reader: str | None = None) -> dict:
        """Return what the page needs to run `vae_name` (and its reader) itself; ValueError for an unknown model."""
        if self.registry.entry(vae_name).model_type != "vae":
            raise ValueError(f"{vae_name!r} is not a VAE.")
        # No reader named: the one of the VAE's data set; "none" (the explorer's Reader choice): no reader.
        reader = None if reader == NO_READER else (reader or self.registry.classifier_for(vae_name))
        vae = self.registry.load(vae_name)
        rnn = self.registry.load(reader) if reader else None
        if rnn is not None and rnn.model_type != "rnn":
            raise ValueError(f"{reader!r} is not a RowRNN.")
        key = (vae_name, reader, id(vae), id(rnn))  # the registry hands out a new object when a folder changes
        with self._lock:
            if key not in self._named:
                data = weights_file(vae, rnn)
                sha = hashlib.sha256(data).hexdigest()
                self._files[sha] = data
                info = {"weights": f"{PREFIX}/weights/{sha}.safetensors", "model": vae_name, "reader": reader,
                        "latent_dim": vae.config.latent_dim, "bytes": len(data),
                        "class_names": list(self.registry.entry(reader).class_names) if reader else []}
                self._named[key] = (sha, info)
            return dict(self._named[key][1])

    def routes(self) -> list[Route]:
        """Return the Starlette routes that serve the script, the descriptions and the weights."""
        async def script(request: Request) -> Response:
            return FileResponse(STATIC_DIR / SCRIPT, media_type="text/javascript",
                                headers={"Cache-Control": "no-cache"})

        def model(request: Request) -> Response:
            try:
                info = self.describe(request.path_params["name"], request.query_params.get("reader") or None)
            except ValueError as error:
                return JSONResponse({"error": str(error)}, status_code=404)
            return Response(json.dumps(info), media_type="application/json", headers={"Cache-Control": "no-cache"})

        async def weights(request: Request) -> Response:
            data = self._files.get(request.path_params["sha"])
            if data is None:
                return JSONResponse({"error": "No such weights file."}, status_code=404)
            return Response(data, media_type="application/octet-stream", headers=IMMUTABLE)

        return [Route(SCRIPT_URL, script),
                Route(PREFIX + "/models/{name}", model),
                Route(PREFIX + "/weights/{sha:str}.safetensors", weights)]
