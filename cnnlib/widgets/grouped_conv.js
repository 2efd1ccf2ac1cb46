// GroupedConv: which input channels feed which output channels in a grouped
// convolution, what that saves (weights and MACs), and why ShuffleNet shuffles
// channels between two grouped convolutions.
// The arithmetic below mirrors cnnlib.analysis.conv_params / conv_macs and
// cnnlib.layers.channel_shuffle (tests run both on the same inputs, and check
// the connectivity against the gradients of torch's grouped nn.Conv2d).

/** Numbers of groups that divide both channel counts, ascending. */
export function validGroups(cin, cout) {
  const out = [];
  for (let g = 1; g <= Math.min(cin, cout); g++) if (cin % g === 0 && cout % g === 0) out.push(g);
  return out;
}

/** The valid number of groups closest to `g` (the smaller one on a tie). */
export function nearestValidGroups(cin, cout, g) {
  let best = 1;
  for (const v of validGroups(cin, cout)) if (Math.abs(v - g) < Math.abs(best - g)) best = v;
  return best;
}

/** True when `g` groups is a valid setting for these channel counts. */
export function isValid(cin, cout, g) {
  return Number.isInteger(g) && g >= 1 && cin % g === 0 && cout % g === 0;
}

/** Weights of a k×k grouped convolution without bias: k²·C_in·C_out/g (null if invalid). */
export function weights(cin, cout, k, g) {
  if (!isValid(cin, cout, g)) return null;
  return k * k * (cin / g) * cout;
}

/** Multiply-accumulates for one sample with an H=W=`size` output: H·W·k²·C_in·C_out/g (null if invalid). */
export function macs(cin, cout, k, g, size) {
  if (!isValid(cin, cout, g)) return null;
  return size * size * k * k * (cin / g) * cout;
}

/** The group (0..g-1) of channel `c` among `channels` channels split into `g` groups. */
export function groupOf(c, channels, g) {
  return Math.floor(c / (channels / g));
}

/**
 * Connectivity of a grouped convolution as a C_out × C_in boolean matrix:
 * `connected(...)[o][i]` is true when output channel o reads input channel i
 * (the layout of the weight tensor, whose shape is C_out × C_in/g × k × k).
 */
export function connected(cin, cout, g) {
  if (!isValid(cin, cout, g)) return null;
  const rows = [];
  for (let o = 0; o < cout; o++) {
    const go = groupOf(o, cout, g);
    rows.push(Array.from({ length: cin }, (_, i) => groupOf(i, cin, g) === go));
  }
  return rows;
}

/**
 * ShuffleNet's channel shuffle as a list of sources: position p of the shuffled
 * tensor holds channel `shufflePermutation(...)[p]` of its input. Channel i of
 * group j (input channel j·c + i, c = channels/groups) lands at position i·groups + j,
 * as in cnnlib.layers.channel_shuffle (view as groups × c, transpose, flatten).
 */
export function shufflePermutation(channels, groups) {
  if (!isValid(channels, channels, groups)) return null;
  const c = channels / groups;
  const source = new Array(channels);
  for (let j = 0; j < groups; j++) for (let i = 0; i < c; i++) source[i * groups + j] = j * c + i;
  return source;
}

/**
 * Two stacked grouped convolutions with the same g: C_in → C_out, then (after a
 * channel shuffle if `shuffle`) C_out → C_out. For each final output channel, the
 * sorted list of input groups (0..g-1, groups of the C_in input channels) that
 * reach it.
 */
export function reachingGroups(cin, cout, g, shuffle) {
  if (!isValid(cin, cout, g)) return null;
  const first = connected(cin, cout, g);
  const second = connected(cout, cout, g);
  const order = shuffle ? shufflePermutation(cout, g) : Array.from({ length: cout }, (_, p) => p);
  // Input groups reaching each output of the first convolution.
  const middle = first.map((row) => new Set(row.flatMap((on, i) => (on ? [groupOf(i, cin, g)] : []))));
  return second.map((row) => {
    const reached = new Set();
    row.forEach((on, p) => {
      if (on) for (const group of middle[order[p]]) reached.add(group);
    });
    return [...reached].sort((a, b) => a - b);
  });
}

/** How many final outputs of the two stacked convolutions receive information from every input group. */
export function mixedOutputs(cin, cout, g, shuffle) {
  const reach = reachingGroups(cin, cout, g, shuffle);
  return reach === null ? null : reach.filter((groups) => groups.length === g).length;
}

/** What kind of convolution this is, in words. */
export function kind(cin, cout, g) {
  if (g === 1) return "normal convolution (g = 1): every output reads every input channel";
  if (g === cin && g === cout) return "depthwise convolution (g = C_in = C_out): each output reads one input channel";
  if (g === cin) return `depthwise convolution with channel multiplier ${cout / cin} (g = C_in)`;
  return `grouped convolution: ${g} independent convolutions of ${cin / g} → ${cout / g} channels`;
}

const SVG = "http://www.w3.org/2000/svg";
const SLIDERS = [
  ["in_channels", "input channels C_in", 1, 32],
  ["out_channels", "output channels C_out", 1, 32],
  ["kernel_size", "kernel k", 1, 7],
  ["output_size", "output size H = W", 1, 64],
];
const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** The colour of input group j of g. */
function colour(j, g) {
  return g <= TAB10.length ? TAB10[j] : `hsl(${Math.round((j * 300) / (g - 1))}, 70%, 45%)`;
}

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function render({ model, el }) {
  el.classList.add("cnnlib-widget", "cnnlib-grouped-conv");
  const controls = document.createElement("div");
  controls.style.cssText = "display:flex;flex-wrap:wrap;gap:0.4em 1.2em;margin-bottom:0.5em;font:13px sans-serif";
  const inputs = {};
  const labelled = (text, control, value) => {
    const wrapper = document.createElement("label");
    wrapper.style.cssText = "display:flex;align-items:center;gap:0.4em";
    wrapper.append(text, control, ...(value ? [value] : []));
    controls.append(wrapper);
  };
  for (const [name, label, min, max] of SLIDERS) {
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", min, max, step: 1 });
    slider.dataset.param = name;
    const value = document.createElement("span");
    value.style.cssText = "min-width:1.5em;font-weight:bold";
    slider.addEventListener("input", () => {
      model.set(name, Number(slider.value));
      save();
    });
    labelled(label, slider, value);
    inputs[name] = { slider, value };
  }
  const groupSelect = document.createElement("select");
  groupSelect.dataset.param = "groups";
  groupSelect.addEventListener("change", () => {
    model.set("groups", Number(groupSelect.value));
    save();
  });
  labelled("groups g", groupSelect);
  const shuffleBox = document.createElement("input");
  shuffleBox.type = "checkbox";
  shuffleBox.dataset.param = "shuffle";
  shuffleBox.addEventListener("change", () => {
    model.set("shuffle", shuffleBox.checked);
    save();
  });
  labelled("channel shuffle between the two convolutions", shuffleBox);

  const text = document.createElement("div");
  text.style.cssText = "font:14px sans-serif;margin:0.3em 0;line-height:1.6";
  const picture = svgElement("svg", { class: "drawing" });
  picture.style.maxWidth = "100%";
  const below = document.createElement("div");
  below.style.cssText = "display:flex;flex-wrap:wrap;gap:1em 2em;align-items:flex-start;margin-top:0.4em";
  const matrixBox = document.createElement("div");
  matrixBox.style.cssText = "font:12px sans-serif;color:#444";
  const matrix = svgElement("svg", { class: "matrix" });
  const matrixCaption = document.createElement("div");
  matrixCaption.style.maxWidth = "240px";
  matrixCaption.textContent =
    "Weights of the first convolution: row = output channel, column = input channel. " +
    "Filled cells exist; the groups make the matrix block-diagonal.";
  matrixBox.append(matrix, matrixCaption);
  const legend = document.createElement("div");
  legend.style.cssText = "font:12px sans-serif;color:#444;max-width:400px;line-height:1.7";
  below.append(matrixBox, legend);
  el.append(controls, text, picture, below);

  function save() {
    try {
      model.save_changes();
    } catch (error) {
      // No kernel (static HTML): the state lives in the page only.
    }
  }

  function fixGroups() {
    const cin = model.get("in_channels");
    const cout = model.get("out_channels");
    const g = model.get("groups");
    if (!isValid(cin, cout, g)) {
      model.set("groups", nearestValidGroups(cin, cout, g));
      save();
    }
    draw();
  }

  function draw() {
    const cin = model.get("in_channels");
    const cout = model.get("out_channels");
    const k = model.get("kernel_size");
    const size = model.get("output_size");
    const g = model.get("groups");
    const shuffle = model.get("shuffle");
    for (const [name] of SLIDERS) {
      inputs[name].slider.value = model.get(name);
      inputs[name].value.textContent = model.get(name);
    }
    const options = validGroups(cin, cout);
    groupSelect.replaceChildren(...options.map((v) => new Option(String(v), String(v))));
    shuffleBox.checked = shuffle;
    picture.replaceChildren();
    matrix.replaceChildren();
    if (!isValid(cin, cout, g)) {
      text.innerHTML =
        `<span class="invalid" style="color:#b00020">invalid: groups = ${g} must divide both ` +
        `C_in = ${cin} and C_out = ${cout} (valid: ${options.join(", ")})</span>`;
      for (const svg of [picture, matrix]) {
        svg.setAttribute("width", 0);
        svg.setAttribute("height", 0);
      }
      legend.replaceChildren();
      return;
    }
    groupSelect.value = String(g);
    const w = weights(cin, cout, k, g);
    const m = macs(cin, cout, k, g, size);
    const reach = reachingGroups(cin, cout, g, shuffle);
    const mixed = reach.filter((groups) => groups.length === g).length;
    const fmt = (n) => n.toLocaleString("en-US");
    text.innerHTML =
      `<div class="conv-kind" style="font-weight:bold">${kind(cin, cout, g)}</div>` +
      `<div style="font-family:monospace">weights = k²·C_in·C_out/g = ${k}²·${cin}·${cout}/${g} = ` +
      `<b class="param-count">${w}</b> <span style="font-family:sans-serif;color:#555">` +
      `(a bias adds C_out = ${cout} more)</span></div>` +
      `<div style="font-family:monospace">MACs = H·W·k²·C_in·C_out/g = ${size}·${size}·${k}²·${cin}·${cout}/${g} = ` +
      `<b class="mac-count">${m}</b> <span style="font-family:sans-serif;color:#555">(${fmt(m)}; ` +
      `FLOPs ≈ 2·MACs)</span></div>` +
      `<div style="color:#555">g = ${g} divides both counts by ${g} relative to g = 1 ` +
      `(${fmt(weights(cin, cout, k, 1))} weights); each output channel reads C_in/g = ${cin / g} input channel${cin / g > 1 ? "s" : ""}.</div>` +
      `<div>Two stacked grouped convolutions ${shuffle ? "with" : "without"} a channel shuffle: ` +
      `<b class="mixed-outputs">${mixed}</b> of ${cout} final outputs receive information from all ${g} input group${g > 1 ? "s" : ""}.</div>`;

    // --- Connection diagram: input → conv → (shuffle) → conv → final outputs ---
    const n = Math.max(cin, cout);
    const pitch = Math.max(11, Math.min(26, Math.floor(400 / n)));
    const box = pitch - 3;
    const top = 52;
    const height = top + n * pitch + 8;
    const cols = { a: 36, b: 226, c: 396, d: 566 };
    const narrow = 16;
    const wide = 40;
    picture.setAttribute("width", 690);
    picture.setAttribute("height", height);
    picture.setAttribute("viewBox", `0 0 690 ${height}`);
    const yOf = (c, count) => top + ((n - count) * pitch) / 2 + c * pitch;
    const mid = (c, count) => yOf(c, count) + box / 2;
    const write = (x, y, content, attrs = {}) => {
      const t = svgElement("text", { x, y, "font-size": 11, "font-family": "sans-serif", fill: "#333", ...attrs });
      t.textContent = content;
      picture.append(t);
    };
    // The layer whose counts are printed above, on a light background.
    picture.append(svgElement("rect", { x: 2, y: 2, width: cols.b + narrow + 12, height: height - 4, fill: "#f7f9fc", stroke: "#dde4ee", rx: 6 }));
    write(8, 15, "the layer counted above", { "font-weight": "bold" });
    write(cols.b + narrow + 24, 15, `ShuffleNet idea: stack a second grouped conv (g = ${g}, C_out → C_out)`, { "font-weight": "bold" });
    write(cols.a - 6, 40, `input (${cin})`, { "text-anchor": "start" });
    write(cols.b + narrow / 2, 40, `output (${cout})`, { "text-anchor": "middle" });
    write(cols.c + narrow / 2, 40, shuffle ? "shuffled" : "not shuffled", { "text-anchor": "middle" });
    write(cols.d + wide / 2, 40, "final outputs", { "text-anchor": "middle" });
    write((cols.a + cols.b + narrow) / 2, 28, `grouped conv, g = ${g}`, { "text-anchor": "middle", fill: "#555" });
    write((cols.b + cols.c + narrow) / 2, 28, shuffle ? "channel shuffle" : "identity", { "text-anchor": "middle", fill: "#555" });
    write((cols.c + cols.d + narrow) / 2, 28, `grouped conv, g = ${g}`, { "text-anchor": "middle", fill: "#555" });
    // Faint bands (every other group) joining a group's channels on the left to its channels on the right.
    const band = (x0, x1, countLeft, countRight) => {
      const perL = countLeft / g;
      const perR = countRight / g;
      for (let j = 0; j < g; j += 2) {
        const [l0, l1] = [yOf(j * perL, countLeft) - 1.5, yOf((j + 1) * perL, countLeft) - 1.5];
        const [r0, r1] = [yOf(j * perR, countRight) - 1.5, yOf((j + 1) * perR, countRight) - 1.5];
        picture.append(svgElement("polygon", {
          points: `${x0},${l0} ${x0 + 26},${l0} ${x1 - 26},${r0} ${x1},${r0} ${x1},${r1} ${x1 - 26},${r1} ${x0 + 26},${l1} ${x0},${l1}`,
          fill: "#000", "fill-opacity": 0.04,
        }));
      }
    };
    if (g > 1) {
      band(cols.a - 4, cols.b + narrow + 4, cin, cout);
      band(cols.c - 4, cols.d + wide + 4, cout, cout);
    }
    const opacity = cin * cout / g > 300 ? 0.35 : 0.7;
    const edge = (x1, y1, x2, y2, stroke, cls, data) => {
      picture.append(svgElement("line", { x1, y1, x2, y2, stroke, "stroke-width": 1.2, "stroke-opacity": opacity, class: cls, ...data }));
    };
    // First convolution: input → output, coloured by group.
    const first = connected(cin, cout, g);
    first.forEach((row, o) => row.forEach((on, i) => {
      if (on) edge(cols.a + narrow, mid(i, cin), cols.b, mid(o, cout), colour(groupOf(o, cout, g), g), "edge", { "data-in": i, "data-out": o });
    }));
    // Channel shuffle (or identity): output of the first conv → input of the second.
    const order = shuffle ? shufflePermutation(cout, g) : Array.from({ length: cout }, (_, p) => p);
    order.forEach((src, p) => {
      edge(cols.b + narrow, mid(src, cout), cols.c, mid(p, cout), colour(groupOf(src, cout, g), g), "shuffle-edge", { "data-from": src, "data-to": p });
    });
    // Second convolution, each edge coloured by the input group the shuffled channel carries.
    connected(cout, cout, g).forEach((row, o) => row.forEach((on, p) => {
      if (on) edge(cols.c + narrow, mid(p, cout), cols.d, mid(o, cout), colour(groupOf(order[p], cout, g), g), "edge2", { "data-in": p, "data-out": o });
    }));
    const channelBox = (x, y, width, fill, cls, c) =>
      picture.append(svgElement("rect", { x, y, width, height: box, fill, stroke: "#555", "stroke-width": 0.6, rx: 2, class: cls, "data-channel": c }));
    for (let i = 0; i < cin; i++) channelBox(cols.a, yOf(i, cin), narrow, colour(groupOf(i, cin, g), g), "input-channel", i);
    for (let o = 0; o < cout; o++) {
      channelBox(cols.b, yOf(o, cout), narrow, colour(groupOf(o, cout, g), g), "output-channel", o);
      channelBox(cols.c, yOf(o, cout), narrow, colour(groupOf(order[o], cout, g), g), "shuffled-channel", o);
    }
    const labelSize = Math.min(10, pitch - 2);
    const every = pitch < 13 ? 2 : 1;
    for (let i = 0; i < cin; i += every) write(cols.a - 4, mid(i, cin) + labelSize / 3, i, { "text-anchor": "end", "font-size": labelSize, fill: "#777" });
    // Final outputs: one stripe per input group that reaches them.
    reach.forEach((groups, o) => {
      const y = yOf(o, cout);
      const cell = svgElement("g", { class: groups.length === g ? "final-output mixed" : "final-output", "data-channel": o, "data-groups": groups.join(",") });
      const stripe = wide / groups.length;
      groups.forEach((j, s) => cell.append(svgElement("rect", { x: cols.d + s * stripe, y, width: stripe + 0.2, height: box, fill: colour(j, g) })));
      cell.append(svgElement("rect", { x: cols.d, y, width: wide, height: box, fill: "none", stroke: "#333", "stroke-width": groups.length === g ? 1.6 : 0.6, rx: 2 }));
      const title = svgElement("title", {});
      title.textContent = `final output ${o}: receives from input group${groups.length > 1 ? "s" : ""} ${groups.join(", ")}`;
      cell.append(title);
      picture.append(cell);
      if (o % every === 0) {
        write(cols.d + wide + 5, mid(o, cout) + labelSize / 3, `${o}: ${groups.length}/${g}${groups.length === g ? " ✓" : ""}`, { "font-size": labelSize, fill: groups.length === g ? "#111" : "#888" });
      }
    });

    // --- Weight matrix of the first convolution ---
    const cellSize = Math.max(4, Math.min(12, Math.floor(200 / n)));
    matrix.setAttribute("width", cin * cellSize + 2);
    matrix.setAttribute("height", cout * cellSize + 2);
    first.forEach((row, o) => row.forEach((on, i) => {
      matrix.append(svgElement("rect", {
        x: i * cellSize + 1, y: o * cellSize + 1, width: cellSize - 0.5, height: cellSize - 0.5,
        fill: on ? colour(groupOf(o, cout, g), g) : "#f1f1f1", class: on ? "matrix-cell connected" : "matrix-cell",
        "data-row": o, "data-col": i,
      }));
    }));

    // --- Legend ---
    const swatch = (fill) =>
      `<span style="display:inline-block;width:0.9em;height:0.9em;vertical-align:middle;background:${fill};border:1px solid #999;margin:0 0.3em 0 0.6em"></span>`;
    const shown = Math.min(g, 10);
    let groupsText = Array.from({ length: shown }, (_, j) => `${swatch(colour(j, g))}group ${j}`).join(" ");
    if (g > shown) groupsText += ` … ${swatch(colour(g - 1, g))}group ${g - 1} (hues from red to magenta)`;
    legend.innerHTML =
      `<div><b>Colour = input group</b> (C_in/g = ${cin / g} input channel${cin / g > 1 ? "s" : ""} per group): ${groupsText}</div>` +
      `<div>Lines: one per connected pair of channels (each is a k×k kernel). ` +
      `Final outputs are striped with every input group whose information reaches them; ` +
      `"n/${g}" counts those groups, ✓ marks outputs that see all of them.</div>` +
      `<div>${shuffle
        ? `The shuffle (ShuffleNet, Zhang et al. 2018) sends channel i of group j to position i·g + j, so the second convolution's groups take channels from every group of the first` +
          (cout / g < g ? ` — but a group of ${cout / g} channel${cout / g > 1 ? "s" : ""} can only draw from ${cout / g} of the ${g} groups.` : ".")
        : `Without a shuffle, stacked grouped convolutions never mix groups: each output sees only its own group's inputs. Tick the shuffle to mix them.`}</div>`;
  }

  model.on("change:in_channels", fixGroups);
  model.on("change:out_channels", fixGroups);
  for (const name of ["groups", "kernel_size", "output_size", "shuffle"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
