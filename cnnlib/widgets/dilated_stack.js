// DilatedStack: a stack of dilated convolutions, its receptive field layer by
// layer, and exactly which input pixels one output unit reads.
// fieldSizes mirrors cnnlib.analysis.receptive_field and footprint1d mirrors
// cnnlib.widgets.dilated_stack.footprint_1d (tests run both, and torch, on the same stacks).

/** Allowed range of each per-layer setting. */
export const RANGES = { kernel: [1, 7], stride: [1, 3], dilation: [1, 8] };
export const MAX_LAYERS = 6;
const KEYS = ["kernel", "stride", "dilation"];
const three = (dilations) => dilations.map((dilation) => ({ kernel: 3, stride: 1, dilation }));
/** Presets: dilations 2,2,2 (gridding) and 1,2,5 (hybrid dilated convolution, Wang et al. 2018). */
export const PRESETS = { gridding: three([2, 2, 2]), hybrid: three([1, 2, 5]) };

/** Why the layers are invalid, or "" when they are valid. */
export function invalidReason(layers) {
  if (!Array.isArray(layers) || layers.length < 1 || layers.length > MAX_LAYERS) {
    return `a stack holds 1 to ${MAX_LAYERS} layers`;
  }
  for (let i = 0; i < layers.length; i++) {
    for (const key of KEYS) {
      const value = layers[i] ? layers[i][key] : undefined;
      const [low, high] = RANGES[key];
      if (!Number.isInteger(value) || value < low || value > high) {
        return `layer ${i + 1}: ${key} must be a whole number from ${low} to ${high}, got ${value}`;
      }
    }
  }
  return "";
}

/** Receptive-field size r and effective stride j after each layer (Distill recurrences). */
export function fieldSizes(layers) {
  let size = 1;
  let stride = 1;
  return layers.map(({ kernel, stride: s, dilation }) => {
    size += (dilation * (kernel - 1) + 1 - 1) * stride;
    stride *= s;
    return { size, stride };
  });
}

/**
 * Along one axis: for each offset 0..r-1 of the field of one output unit, the
 * number of paths through the layers' taps that reach it (0 for a hole). With
 * every weight 1 this is the input gradient of the unit; the 2-D count at
 * (y, x) is counts[y]·counts[x].
 */
export function pathCounts1d(layers) {
  let counts = [1];
  let jump = 1;
  for (const { kernel, stride, dilation } of layers) {
    const step = dilation * jump;
    const next = new Array(counts.length + (kernel - 1) * step).fill(0);
    for (let o = 0; o < counts.length; o++) {
      if (counts[o] === 0) continue;
      for (let t = 0; t < kernel; t++) next[o + t * step] += counts[o];
    }
    counts = next;
    jump *= stride;
  }
  return counts;
}

/** Sorted offsets, along one axis, of the input pixels one output unit reads. */
export function footprint1d(layers) {
  const offsets = [];
  pathCounts1d(layers).forEach((count, offset) => count > 0 && offsets.push(offset));
  return offsets;
}

/** The 2-D field: its side r, the pixels read in it and the holes (pixels of the r×r square not read). */
export function footprintStats(layers) {
  const sizes = fieldSizes(layers);
  const size = sizes.length ? sizes[sizes.length - 1].size : 1;
  const read = footprint1d(layers).length ** 2;
  return { size, read, holes: size * size - read };
}

const SVG = "http://www.w3.org/2000/svg";
const WINDOW = 72; // most input pixels drawn per side
const FIELD = "#1f77b4";
const HOLE = "#f4a6a6";

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function html(name, attributes = {}, text = "") {
  const node = document.createElement(name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== "") node.textContent = text;
  return node;
}

/** A blue whose depth grows with the share of paths (0..1). */
function shade(share) {
  const light = [198, 219, 239];
  const dark = [8, 69, 148];
  const t = 0.25 + 0.75 * share;
  return `rgb(${light.map((c, i) => Math.round(c + (dark[i] - c) * t)).join(",")})`;
}

function render({ model, el }) {
  el.classList.add("cnnlib-widget", "cnnlib-dilated-stack");
  el.style.font = "13px sans-serif";
  const controls = html("div", { class: "layer-controls" });
  controls.style.cssText = "display:flex;flex-direction:column;gap:0.25em;margin-bottom:0.4em";
  const buttons = html("div");
  buttons.style.cssText = "display:flex;flex-wrap:wrap;gap:0.4em;margin-bottom:0.5em";
  const button = (param, text, title) => {
    const b = html("button", { type: "button", "data-param": param, title }, text);
    b.style.cssText = "font:12px sans-serif;padding:0.15em 0.6em;cursor:pointer";
    buttons.append(b);
    return b;
  };
  const add = button("add-layer", "+ add layer", "append a 3×3 layer, stride 1, dilation 1");
  const remove = button("remove-layer", "− remove layer", "drop the last layer");
  const gridding = button("preset-gridding", "preset: dilations 2, 2, 2 (gridding)", "three 3×3 layers, dilation 2");
  const hybrid = button(
    "preset-hybrid", "preset: dilations 1, 2, 5 (hybrid)",
    "three 3×3 layers, dilations 1, 2, 5 (Wang et al., 2018)"
  );
  const message = html("div", { class: "message" });
  message.style.cssText = "margin:0.3em 0";
  const table = html("table", { class: "field-table" });
  table.style.cssText = "border-collapse:collapse;font:12px sans-serif;margin:0.3em 0;text-align:right";
  const picture = svgElement("svg", { class: "drawing" });
  picture.style.maxWidth = "100%";
  const legend = html("div");
  legend.style.cssText = "font:12px sans-serif;color:#444;margin-top:0.3em";
  const swatch = (background, width = "0.9em") =>
    `<span style="display:inline-block;width:${width};height:0.9em;vertical-align:middle;background:${background};` +
    `border:1px solid #999;margin:0 0.3em 0 0.9em"></span>`;
  legend.innerHTML =
    swatch(`linear-gradient(to right, ${shade(0)}, ${shade(1)})`, "2.4em") +
    "read by the output unit (darker: reached along more paths)" +
    swatch(HOLE) + "hole: inside the field, never read";
  el.append(controls, buttons, message, table, picture, legend);

  function save() {
    try {
      model.save_changes();
    } catch (error) {
      // No kernel (static HTML): the state lives in the page only.
    }
  }

  function setLayers(layers) {
    model.set("layers", layers);
    save();
  }

  const current = () => (Array.isArray(model.get("layers")) ? model.get("layers") : []);
  add.addEventListener("click", () => {
    const layers = current();
    if (layers.length < MAX_LAYERS) setLayers([...layers.map((l) => ({ ...l })), { kernel: 3, stride: 1, dilation: 1 }]);
  });
  remove.addEventListener("click", () => {
    const layers = current();
    if (layers.length > 1) setLayers(layers.slice(0, -1).map((l) => ({ ...l })));
  });
  gridding.addEventListener("click", () => setLayers(PRESETS.gridding.map((l) => ({ ...l }))));
  hybrid.addEventListener("click", () => setLayers(PRESETS.hybrid.map((l) => ({ ...l }))));

  let inputs = []; // per layer: {kernel, stride, dilation} number inputs
  function buildControls(count) {
    controls.replaceChildren();
    inputs = [];
    for (let i = 0; i < count; i++) {
      const row = html("div");
      row.style.cssText = "display:flex;align-items:center;gap:0.4em 1em;flex-wrap:wrap";
      const name = html("span", {}, `layer ${i + 1}`);
      name.style.cssText = "min-width:4em;font-weight:bold";
      row.append(name);
      const fields = {};
      for (const key of KEYS) {
        const [min, max] = RANGES[key];
        const label = html("label", {}, `${key} `);
        const input = html("input", { type: "number", min, max, step: 1, "data-param": `${key}-${i}` });
        input.style.width = "3.2em";
        input.addEventListener("input", () => {
          const layers = current().map((l) => ({ ...l }));
          if (!layers[i]) return;
          const value = Number(input.value);
          layers[i][key] = Number.isFinite(value) ? value : 0;
          setLayers(layers);
        });
        label.append(input);
        row.append(label);
        fields[key] = input;
      }
      controls.append(row);
      inputs.push(fields);
    }
  }

  function drawTable(layers, sizes) {
    const head = ["layer", "kernel k", "stride s", "dilation d", "span d(k−1)+1", "field r", "eff. stride j", "holes (1-D)"];
    const tr = (cells, header = false) => {
      const row = html("tr");
      for (const cell of cells) {
        const td = html(header ? "th" : "td");
        td.style.cssText = "padding:0.15em 0.6em;border-bottom:1px solid #ddd";
        if (cell instanceof Node) td.append(cell);
        else td.textContent = cell;
        row.append(td);
      }
      return row;
    };
    table.replaceChildren(tr(head, true), tr(["input", "", "", "", "", "1", "1", "0"]));
    layers.forEach((l, i) => {
      const { size, stride } = sizes[i];
      const holes1d = size - footprint1d(layers.slice(0, i + 1)).length;
      table.append(tr([
        String(i + 1), String(l.kernel), String(l.stride), String(l.dilation),
        String(l.dilation * (l.kernel - 1) + 1),
        html("b", { class: "rf-size" }, String(size)),
        html("span", { class: "rf-stride" }, String(stride)),
        html("span", { class: "holes-1d" }, String(holes1d)),
      ]));
    });
  }

  function drawPicture(layers, sizes) {
    picture.replaceChildren();
    const r = sizes[sizes.length - 1].size;
    const w = Math.min(r, WINDOW);
    const cell = Math.max(4, Math.min(24, Math.floor(560 / w)));
    const strip = Math.max(11, Math.min(14, cell));
    const labelWidth = 60;
    let y = 0;
    const text = (x, yy, content, size = 12) => {
      const t = svgElement("text", { x, y: yy, "font-size": size, "font-family": "sans-serif", fill: "#333" });
      t.textContent = content;
      picture.append(t);
    };
    // One strip per layer: the 1-D field of one unit after that layer.
    text(0, 12, "along one axis, the field of one unit after each layer:");
    y = 18;
    layers.forEach((_, i) => {
      const counts = pathCounts1d(layers.slice(0, i + 1));
      text(0, y + strip - 2, `layer ${i + 1}`, Math.min(12, strip - 1));
      for (let x = 0; x < Math.min(counts.length, w); x++) {
        picture.append(svgElement("rect", {
          x: labelWidth + x * cell + 1, y, width: cell - 2, height: strip - 2,
          fill: counts[x] > 0 ? FIELD : HOLE, class: counts[x] > 0 ? "strip-read" : "strip-hole",
        }));
      }
      y += strip;
    });
    y += 14;
    const counts = pathCounts1d(layers);
    const most = counts.reduce((a, b) => Math.max(a, b), 1) ** 2;
    const cropped = r > w ? ` (the top-left ${w}×${w} of it)` : "";
    text(0, y, `the ${r}×${r} input field of one output unit${cropped}: which pixels it reads`);
    y += 6;
    for (let row = 0; row < w; row++) {
      for (let col = 0; col < w; col++) {
        const paths = counts[row] * counts[col];
        picture.append(svgElement("rect", {
          x: labelWidth + col * cell + (cell > 5 ? 0.5 : 0), y: y + row * cell + (cell > 5 ? 0.5 : 0),
          width: cell > 5 ? cell - 1 : cell, height: cell > 5 ? cell - 1 : cell,
          fill: paths > 0 ? shade(Math.sqrt(paths / most)) : HOLE,
          class: paths > 0 ? "read" : "hole", "data-row": row, "data-col": col,
        }));
      }
    }
    y += w * cell;
    picture.setAttribute("width", Math.max(labelWidth + w * cell + 2, 480));
    picture.setAttribute("height", y + 4);
  }

  function draw() {
    const layers = current();
    if (inputs.length !== layers.length) buildControls(layers.length);
    layers.forEach((l, i) => {
      for (const key of KEYS) {
        const input = inputs[i][key];
        // Leave the box alone while it already shows this value (e.g. while it is being cleared).
        if (Number(input.value) !== l[key]) input.value = l[key];
      }
    });
    add.disabled = layers.length >= MAX_LAYERS;
    remove.disabled = layers.length <= 1;
    const reason = invalidReason(layers);
    if (reason) {
      message.replaceChildren(html("span", { class: "invalid" }, `invalid: ${reason}`));
      message.firstChild.style.color = "#b00020";
      table.replaceChildren();
      picture.replaceChildren();
      picture.setAttribute("width", 0);
      picture.setAttribute("height", 0);
      legend.style.display = "none";
      return;
    }
    const sizes = fieldSizes(layers);
    const { size, read, holes } = footprintStats(layers);
    const holesElement = html("b", { class: "holes" }, String(holes));
    if (holes > 0) holesElement.style.color = "#b00020";
    const formula = html("div", {}, "per layer: r ← r + (d(k−1)+1 − 1)·j,   j ← j·s   (starting from r = j = 1)");
    formula.style.cssText = "font:13px monospace;color:#333;margin-bottom:0.2em";
    legend.style.display = "";
    message.replaceChildren(
      formula,
      "One output unit sees a ",
      html("b", { class: "field-size" }, String(size)),
      `×${size} field (${(size * size).toLocaleString("en")} pixels) and reads `,
      html("b", { class: "pixels-read" }, String(read)),
      " of them; ",
      holesElement,
      holes === 0 ? " holes: the whole field is covered." : " holes: pixels inside the field it never reads (gridding).",
    );
    drawTable(layers, sizes);
    drawPicture(layers, sizes);
  }

  model.on("change:layers", draw);
  draw();
}

export default { render };
