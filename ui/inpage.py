"""What a page needs to run the decoder and the reader itself: the script and the models' weights.

The drag loop of a whole class cannot go through one 2-vCPU server (BENCHMARKS.md, "The drag
loop in the page"), and the models are tiny, so the page decodes and reads in the browser
(ui/static/latent_lab.js). The server hands out, once per model, one safetensors file with the
VAE's decoder (float16: half the bytes, and its pixels stay within 1/255 of float32;
tests/test_inpage_parity.py derives the bound per pixel), the RNN reader's weights (float32: its
probabilities compound 28 steps of rounding) and the codes a page jumps to without asking (the
class centroids and the latent map's points and plane, float32 so the page lands on the very code
the server would), at a URL named by the file's SHA-256 so a browser caches it for good and never
fetches the same model twice. The file's metadata and the
description carry every number the page would otherwise repeat from Python (the picture's side,
slider decimals, snap distance, link limit, the readout picture's layout).

    GET /latent-lab/static/latent_lab.js                  the script
    GET /latent-lab/models/<vae name>?reader=<rnn name>   {"weights": url, "latent_dim": d, ...}
    GET /latent-lab/weights/<sha256>.safetensors          immutable bytes
"""

import hashlib
import json
import threading
from collections import deque
from pathlib import Path

import torch
from safetensors.torch import save as safetensors_bytes
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

import i18n
from ui.explore.models import API_LIMIT, NO_READER_VALUE, SLIDER_DECIMALS, SNAP_PIXELS, in_page_version
from ui.explore.render import READOUT_LAYOUT
from ui.language import request_language

STATIC_DIR = Path(__file__).resolve().parent / "static"
SCRIPT = "latent_lab.js"
PREFIX = "/latent-lab"
SCRIPT_URL = f"{PREFIX}/static/{SCRIPT}"
IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


def weights_file(view, rnn) -> bytes:
    """Return one safetensors file holding the decoder and latent codes of a ModelView and all of `rnn` (None: no reader).

    Its metadata says how to run them: the picture's side, latent size, likelihood, cell, layers, hidden size.
    """
    vae = view.vae
    tensors = {f"decoder.{name}": t.detach().to("cpu", torch.float16).contiguous()
               for name, t in vae.state_dict().items() if name.startswith(("fc3.", "fc4."))}
    tensors.update({f"latent.{name}": t.detach().to("cpu", torch.float32).contiguous()
                    for name, t in view.page_tensors().items()})
    metadata = {"image_side": str(vae.config.side), "latent_dim": str(vae.config.latent_dim),
                "likelihood": vae.config.likelihood}
    if rnn is not None:
        tensors.update({f"reader.{name}": t.detach().to("cpu", torch.float32).contiguous()
                        for name, t in rnn.state_dict().items()})
        metadata.update(cell=rnn.config.cell, num_layers=str(rnn.config.num_layers),
                        hidden_size=str(rnn.config.hidden_size), num_classes=str(rnn.config.num_classes))
    return safetensors_bytes(tensors, metadata=metadata)


class InPageModels:
    """Serves the script and the weights files of the explorer's models (each built once, kept in memory)."""

    def __init__(self, views):
        self.views = views  # the explorer's ViewCache: its models, readers and latent analyses
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}  # sha256 -> file
        # (vae name, reader name) -> its description, and the hashes of its newest two files: a page
        # may still fetch the file its last description named, and a run saved every epoch does not
        # pile up files in memory.
        self._named: dict[tuple, dict] = {}
        self._kept: dict[tuple, deque] = {}

    def describe(self, vae_name: str, reader: str | None = None) -> dict:
        """Return what the page needs to run `vae_name` (and its reader) itself; ValueError for an unknown model."""
        with self._lock:  # one request at a time sees the newest version of a folder and builds its file
            view = self.views.get(vae_name)
            # No reader named: the one of the VAE's data set; "none" (the explorer's Reader choice): no reader.
            reader = self.views.reader(reader or view.default_reader)
            key = (vae_name, reader.name if reader else NO_READER_VALUE)
            version = in_page_version(view, reader)
            if key not in self._named or self._named[key]["version"] != version:
                data = weights_file(view, reader.rnn if reader else None)
                sha = hashlib.sha256(data).hexdigest()
                self._named[key] = {
                    "weights": f"{PREFIX}/weights/{sha}.safetensors", "model": vae_name, "reader": key[1],
                    "version": version, "latent_dim": view.dims, "order": view.slider_dims(),
                    "slider_decimals": SLIDER_DECIMALS, "snap_pixels": SNAP_PIXELS, "link_limit": API_LIMIT,
                    "readout": READOUT_LAYOUT,
                    "bytes": len(data), "class_names": reader.class_names if reader else []}
                self._kept.setdefault(key, deque(maxlen=2)).append(sha)
                self._files[sha] = data
                in_use = {kept for shas in self._kept.values() for kept in shas}
                self._files = {kept: file for kept, file in self._files.items() if kept in in_use}
            return dict(self._named[key])

    def routes(self) -> list[Route]:
        """Return the Starlette routes that serve the script, the descriptions and the weights."""
        async def script(request: Request) -> Response:
            return FileResponse(STATIC_DIR / SCRIPT, media_type="text/javascript",
                                headers={"Cache-Control": "no-cache"})

        def model(request: Request) -> Response:
            try:
                info = self.describe(request.path_params["name"], request.query_params.get("reader") or None)
            except ValueError as error:
                with i18n.speaking(request_language(request)):
                    return JSONResponse({"error": str(error)}, status_code=404)
            return Response(json.dumps(info), media_type="application/json", headers={"Cache-Control": "no-cache"})

        async def weights(request: Request) -> Response:
            data = self._files.get(request.path_params["sha"])
            if data is None:
                return JSONResponse({"error": i18n.text("inpage.no_weights", request_language(request))}, status_code=404)
            return Response(data, media_type="application/octet-stream", headers=IMMUTABLE)

        return [Route(SCRIPT_URL, script),
                Route(PREFIX + "/models/{name}", model),
                Route(PREFIX + "/weights/{sha:str}.safetensors", weights)]
