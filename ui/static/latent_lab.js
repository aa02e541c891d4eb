// Latent Lab in the page: the VAE's decoder and the RNN reader, run by the browser itself.
//
// The server stays the source of truth (genmodels, PyTorch); this file repeats only the two
// forward passes a slider drag needs, so a class of thirty can drag at display rate without a
// round trip per frame. The weights come once per model as one safetensors file
// (ui/inpage.py), whose metadata says how to run them (the picture's side included: nothing here
// repeats a number from Python); tests/test_inpage_parity.py checks the results equal PyTorch's for
// every likelihood, cell and depth, tests/test_browser_inpage.py on the shipped checkpoints.
//
//   const m = await LatentLab.load("vae-mnist");   // fetches /latent-lab/models/vae-mnist, then the weights
//   const pixels = m.decode(z);                    // Float32Array(m.side * m.side) in [0,1]
//   const belief = m.readRows(pixels);             // m.side arrays of class probabilities, one per row read
//   const z2 = m.centroid(3), [z3, onDot] = m.codeAtMapPixel(px, py);   // the codes the server would choose
//   LatentLab.paint(canvas, pixels);
"use strict";

window.LatentLab = (() => {
  const loaded = new Map(); // weights URL -> Promise<Models>: a page never fetches the same model twice

  // IEEE 754 half precision -> number (the decoder's weights travel as float16).
  function halfToFloat(bits) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }

  // safetensors: 8-byte little-endian header length, a JSON header, then the raw tensors.
  function parseSafetensors(buffer) {
    const view = new DataView(buffer);
    const headerLength = Number(view.getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
    const start = 8 + headerLength;
    const tensors = {};
    for (const [name, info] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const [begin, end] = info.data_offsets;
      const bytes = buffer.slice(start + begin, start + end);
      let values;
      if (info.dtype === "F32") values = new Float32Array(bytes);
      else if (info.dtype === "F16") values = Float32Array.from(new Uint16Array(bytes), halfToFloat);
      else throw new Error(`unsupported dtype ${info.dtype}`);
      tensors[name] = { shape: info.shape, values };
    }
    return { tensors, metadata: header.__metadata__ || {} };
  }

  // out = W x + b for W shaped (rows, cols), row-major.
  function affine(w, b, x, out) {
    const cols = w.shape[1];
    const W = w.values;
    for (let r = 0; r < w.shape[0]; r++) {
      let sum = b ? b.values[r] : 0;
      const offset = r * cols;
      for (let c = 0; c < cols; c++) sum += W[offset + c] * x[c];
      out[r] = sum;
    }
    return out;
  }

  const sigmoid = (v) => 1 / (1 + Math.exp(-v));

  // One step of PyTorch's RNN, GRU or LSTM cell (gate order as in torch.nn: GRU r,z,n; LSTM i,f,g,o).
  function cellStep(cell, p, x, state) {
    const H = state.h.length;
    const gi = affine(p.wih, p.bih, x, new Float32Array(p.wih.shape[0]));
    const gh = affine(p.whh, p.bhh, state.h, new Float32Array(p.whh.shape[0]));
    const h = new Float32Array(H);
    if (cell === "rnn") {
      for (let k = 0; k < H; k++) h[k] = Math.tanh(gi[k] + gh[k]);
      return { h };
    }
    if (cell === "gru") {
      for (let k = 0; k < H; k++) {
        const r = sigmoid(gi[k] + gh[k]);
        const z = sigmoid(gi[H + k] + gh[H + k]);
        const n = Math.tanh(gi[2 * H + k] + r * gh[2 * H + k]);
        h[k] = (1 - z) * n + z * state.h[k];
      }
      return { h };
    }
    const c = new Float32Array(H); // lstm
    for (let k = 0; k < H; k++) {
      const i = sigmoid(gi[k] + gh[k]);
      const f = sigmoid(gi[H + k] + gh[H + k]);
      const g = Math.tanh(gi[2 * H + k] + gh[2 * H + k]);
      const o = sigmoid(gi[3 * H + k] + gh[3 * H + k]);
      c[k] = f * state.c[k] + i * g;
      h[k] = o * Math.tanh(c[k]);
    }
    return { h, c };
  }

  function softmax(logits) {
    const top = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  class Models {
    constructor({ tensors, metadata }, info) {
      this.info = info;
      this.t = tensors;
      this.side = Number(metadata.image_side); // pictures are side x side, read one row of `side` pixels a step
      this.latentDim = Number(metadata.latent_dim);
      this.likelihood = metadata.likelihood;
      this.cell = metadata.cell || null; // null: no reader for this model
      this.layers = Number(metadata.num_layers || 0);
      this.hidden = Number(metadata.hidden_size || 0);
    }

    // Decoded image for code z: Float32Array(side * side), pixels in [0,1] (VAE.decode in genmodels/vae.py).
    decode(z) {
      const t = this.t;
      const h = affine(t["decoder.fc3.weight"], t["decoder.fc3.bias"], z, new Float32Array(t["decoder.fc3.bias"].shape[0]));
      for (let k = 0; k < h.length; k++) h[k] = Math.max(0, h[k]);
      const out = affine(t["decoder.fc4.weight"], t["decoder.fc4.bias"], h, new Float32Array(this.side * this.side));
      for (let k = 0; k < out.length; k++) {
        out[k] = this.likelihood === "gaussian" ? (Math.tanh(out[k]) + 1) / 2 : sigmoid(out[k]);
      }
      return out;
    }

    // The mean code of class k (ModelView.centroid); null for a class the model does not have.
    centroid(k) {
      const c = this.t["latent.centroids"];
      if (!(k >= 0 && k < c.shape[0])) return null;
      return c.values.slice(k * this.latentDim, (k + 1) * this.latentDim);
    }

    // [code, onDot] under pixel (px, py) of the map picture (ModelView.code_at_map_pixel): the code of
    // the nearest dot within the snap distance, else the point on the map's plane.
    codeAtMapPixel(px, py) {
      const points = this.t["latent.map_pixels"].values, d = this.latentDim;
      let best = -1, bestDistance = Infinity;
      for (let i = 0; i < points.length / 2; i++) {
        const distance = Math.hypot(points[2 * i] - px, points[2 * i + 1] - py);
        if (distance < bestDistance) { best = i; bestDistance = distance; }
      }
      if (best >= 0 && bestDistance <= this.info.snap_pixels) return [this.t["latent.map_z"].values.slice(best * d, (best + 1) * d), true];
      const plane = this.t["latent.map_plane"].values;  // z = [px, py, 1] @ plane
      return [Float32Array.from({ length: d }, (_, k) => px * plane[k] + py * plane[d + k] + plane[2 * d + k]), false];
    }

    // Class probabilities after each of the side rows (RowRNN.read_rows in genmodels/rnn.py); null without a reader.
    readRows(pixels) {
      if (!this.cell) return null;
      const t = this.t;
      const layers = [];
      for (let l = 0; l < this.layers; l++) {
        const p = (name) => t[`reader.rnn.${name}_l${l}`];
        layers.push({ wih: p("weight_ih"), whh: p("weight_hh"), bih: p("bias_ih"), bhh: p("bias_hh") });
      }
      const states = layers.map(() => ({ h: new Float32Array(this.hidden), c: new Float32Array(this.hidden) }));
      const belief = [];
      const side = this.side;
      for (let row = 0; row < side; row++) {
        let x = pixels.subarray(row * side, (row + 1) * side);
        for (let l = 0; l < layers.length; l++) {
          states[l] = cellStep(this.cell, layers[l], x, states[l]);
          x = states[l].h;
        }
        const logits = affine(t["reader.head.weight"], t["reader.head.bias"], x, new Float32Array(t["reader.head.bias"].shape[0]));
        belief.push(softmax(Array.from(logits)));
      }
      return belief;
    }
  }

  // The models for a VAE (and a reader, default: the server's choice), loaded once per page.
  async function load(model, reader) {
    const query = reader ? `?reader=${encodeURIComponent(reader)}` : "";
    const response = await fetch(`/latent-lab/models/${encodeURIComponent(model)}${query}`);
    if (!response.ok) throw new Error(`no in-page model for ${model}`);
    const info = await response.json();
    if (!loaded.has(info.weights)) {
      loaded.set(info.weights, fetch(info.weights)
        .then((r) => { if (!r.ok) throw new Error("weights unavailable"); return r.arrayBuffer(); })
        .then((buffer) => new Models(parseSafetensors(buffer), info))
        .catch((error) => { loaded.delete(info.weights); throw error; }));
    }
    return loaded.get(info.weights);
  }

  // Paint a square picture's pixels in [0,1] (white ink on black, as MNIST) onto a canvas one pixel
  // each (its side from their number); CSS scales it up.
  function paint(canvas, pixels) {
    const side = Math.round(Math.sqrt(pixels.length));
    canvas.width = side;
    canvas.height = side;
    const context = canvas.getContext("2d");
    const image = context.createImageData(side, side);
    for (let k = 0; k < side * side; k++) {
      const v = Math.round(Math.min(1, Math.max(0, pixels[k])) * 255);
      image.data.set([v, v, v, 255], k * 4);
    }
    context.putImageData(image, 0, 0);
  }

  return { load, paint, parseSafetensors, fetched: () => [...loaded.keys()] };
})();
