// ConvArithmetic: how a convolution's output size and taps follow from
// input size, kernel size, stride, padding and dilation.
// The arithmetic below mirrors cnnlib.analysis.conv_output_size (a test runs
// both on the same inputs); the traits carry its argument names (size is i).

/** Output size along one axis, or null when PyTorch would reject the layer. */
export function convOutputSize(size, kernel, stride, padding, dilation) {
  if (size < 1 || kernel < 1 || stride < 1 || padding < 0 || dilation < 1) return null;
  const extent = dilation * (kernel - 1) + 1;
  if (extent > size + 2 * padding) return null;
  return Math.floor((size + 2 * padding - extent) / stride) + 1;
}

/** Why the combination is invalid, or "" when it is valid. */
export function invalidReason(size, kernel, stride, padding, dilation) {
  const extent = dilation * (kernel - 1) + 1;
  if (extent > size + 2 * padding) {
    return `the dilated kernel spans ${extent} pixels, more than the padded input (${size} + 2·${padding} = ${size + 2 * padding})`;
  }
  return "";
}

/** Input coordinates (row, col; padding is negative or >= size) read by output unit (row, col). */
export function taps(row, col, kernel, stride, padding, dilation) {
  const out = [];
  for (let a = 0; a < kernel; a++) {
    for (let b = 0; b < kernel; b++) {
      out.push([row * stride - padding + a * dilation, col * stride - padding + b * dilation]);
    }
  }
  return out;
}

const SVG = "http://www.w3.org/2000/svg";
const PARAMS = [
  ["size", "input size i", 1, 16],
  ["kernel_size", "kernel size k", 1, 7],
  ["stride", "stride s", 1, 4],
  ["padding", "padding p", 0, 4],
  ["dilation", "dilation d", 1, 4],
];

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function render({ model, el }) {
  el.classList.add("cnnlib-widget", "cnnlib-conv-arithmetic");
  const controls = document.createElement("div");
  controls.style.cssText = "display:flex;flex-wrap:wrap;gap:0.4em 1.2em;margin-bottom:0.5em;font:13px sans-serif";
  const inputs = {};
  for (const [name, label, min, max] of PARAMS) {
    const wrapper = document.createElement("label");
    wrapper.style.cssText = "display:flex;align-items:center;gap:0.4em";
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", min, max, step: 1 });
    slider.dataset.param = name;
    const value = document.createElement("span");
    value.style.cssText = "min-width:1.5em;font-weight:bold";
    slider.addEventListener("input", () => {
      model.set(name, Number(slider.value));
      save();
    });
    wrapper.append(label, slider, value);
    controls.append(wrapper);
    inputs[name] = { slider, value };
  }
  const formula = document.createElement("div");
  formula.className = "formula";
  formula.style.cssText = "font:14px monospace;margin:0.3em 0";
  const picture = svgElement("svg", { class: "drawing" });
  picture.style.maxWidth = "100%";
  const legend = document.createElement("div");
  legend.style.cssText = "font:12px sans-serif;color:#444;margin-top:0.3em";
  const swatch = (colour, dashed) =>
    `<span style="display:inline-block;width:0.9em;height:0.9em;vertical-align:middle;background:${colour};` +
    `border:1px ${dashed ? "dashed #bbb" : "solid #999"};margin:0 0.3em 0 0.9em"></span>`;
  legend.innerHTML =
    swatch("#f2f2f2") + "input pixel" + swatch("#ffffff", true) + "zero padding" +
    swatch("#1f77b4") + "read by the selected output" + swatch("#9ecae1") + "read, but padding" +
    swatch("#ff7f0e") + "selected output (point at another)";
  el.append(controls, formula, picture, legend);

  function save() {
    try {
      model.save_changes();
    } catch (error) {
      // No kernel (static HTML): the state lives in the page only.
    }
  }

  function draw() {
    const p = Object.fromEntries(PARAMS.map(([name]) => [name, model.get(name)]));
    for (const [name] of PARAMS) {
      inputs[name].slider.value = p[name];
      inputs[name].value.textContent = p[name];
    }
    const { size: i, kernel_size: k, stride: s, padding: pad, dilation: d } = p;
    const o = convOutputSize(i, k, s, pad, d);
    picture.replaceChildren();
    if (o === null) {
      formula.innerHTML = `<span class="invalid" style="color:#b00020">invalid: ${invalidReason(i, k, s, pad, d)}</span>`;
      picture.setAttribute("width", 0);
      picture.setAttribute("height", 0);
      return;
    }
    formula.innerHTML =
      `o = ⌊(i + 2p − d(k − 1) − 1) / s⌋ + 1 = ⌊(${i} + 2·${pad} − ${d}·(${k} − 1) − 1) / ${s}⌋ + 1 = ` +
      `<b class="output-size">${o}</b>`;
    let [row, col] = model.get("selected");
    row = Math.min(Math.max(row, 0), o - 1);
    col = Math.min(Math.max(col, 0), o - 1);
    const cell = Math.max(10, Math.min(26, Math.floor(300 / (i + 2 * pad))));
    const padded = i + 2 * pad;
    const gap = 40;
    const outLeft = padded * cell + gap;
    picture.setAttribute("width", outLeft + o * cell + 2);
    picture.setAttribute("height", Math.max(padded, o) * cell + 22);
    const label = (x, text) => {
      const t = svgElement("text", { x, y: 12, "font-size": 12, "font-family": "sans-serif" });
      t.textContent = text;
      picture.append(t);
    };
    label(0, `input ${i}×${i} (+ padding)`);
    label(outLeft, `output ${o}×${o}`);
    const read = new Set(taps(row, col, k, s, pad, d).map(([y, x]) => `${y},${x}`));
    for (let y = -pad; y < i + pad; y++) {
      for (let x = -pad; x < i + pad; x++) {
        const inside = y >= 0 && y < i && x >= 0 && x < i;
        const tapped = read.has(`${y},${x}`);
        picture.append(svgElement("rect", {
          x: (x + pad) * cell + 1, y: (y + pad) * cell + 18, width: cell - 2, height: cell - 2,
          fill: tapped ? (inside ? "#1f77b4" : "#9ecae1") : inside ? "#f2f2f2" : "#ffffff",
          stroke: inside ? "#999" : "#ccc", "stroke-dasharray": inside ? "" : "2,2",
          class: tapped ? "tap" : inside ? "input-cell" : "padding-cell",
          "data-row": y, "data-col": x,
        }));
      }
    }
    for (let y = 0; y < o; y++) {
      for (let x = 0; x < o; x++) {
        const chosen = y === row && x === col;
        const rect = svgElement("rect", {
          x: outLeft + x * cell + 1, y: y * cell + 18, width: cell - 2, height: cell - 2,
          fill: chosen ? "#ff7f0e" : "#fde0c5", stroke: "#c96", class: chosen ? "output-cell selected" : "output-cell",
          "data-row": y, "data-col": x, cursor: "pointer",
        });
        const choose = () => {
          model.set("selected", [y, x]);
          save();
        };
        rect.addEventListener("mouseenter", choose);
        rect.addEventListener("click", choose);
        picture.append(rect);
      }
    }
  }

  for (const [name] of PARAMS) model.on(`change:${name}`, draw);
  model.on("change:selected", draw);
  draw();
}

export default { render };
