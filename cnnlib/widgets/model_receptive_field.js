// ModelReceptiveField: the input pixels one unit of a model's feature map can see.
// Python hands over the per-layer table (field size r, effective stride j,
// start of unit 0's field, feature-map size); everything below runs in the
// browser. The arithmetic mirrors cnnlib.widgets.model_receptive_field
// (field_span, unit_at) and cnnlib.analysis.AxisField (a test runs both).

/** First and last input pixel [a, b] of unit `unit`'s field along one axis (may lie outside the image). */
export function fieldSpan(unit, start, stride, size) {
  const first = start + unit * stride;
  return [first, first + size - 1];
}

/** Input pixel index of the centre of unit `unit`'s field (AxisField.center + u·j). */
export function unitCentre(unit, start, stride, size) {
  return start + unit * stride + (size - 1) / 2;
}

/** The unit (of `count`) whose field centre is nearest to input pixel index `pixel`; ties go to the larger. */
export function unitAt(pixel, start, stride, size, count) {
  const unit = Math.floor((pixel - start - (size - 1) / 2) / stride + 0.5);
  return Math.min(Math.max(unit, 0), count - 1);
}

/** The part [a, b] of a span that lies in an image of `n` pixels, or null if none does. */
export function clipSpan(span, n) {
  const first = Math.max(span[0], 0);
  const last = Math.min(span[1], n - 1);
  return first > last ? null : [first, last];
}

/** Pixel range [from, to) covered by the image and by the fields of all `count` units of a layer. */
export function layerExtent(start, stride, size, count, n) {
  return [Math.min(0, start), Math.max(n, start + (count - 1) * stride + size)];
}

/**
 * The layer menu's text for entry `index`: its name, field size r and effective stride j
 * (the type is in the readout and the option's tooltip), short enough not to be clipped.
 */
export function layerLabel(layer, index) {
  const r = layer.size_h === layer.size_w ? `${layer.size_h}` : `${layer.size_h}×${layer.size_w}`;
  const j = layer.stride_h === layer.stride_w ? `${layer.stride_h}` : `${layer.stride_h}×${layer.stride_w}`;
  return `${index}: ${layer.name}  r=${r} j=${j}`;
}

/** Why a layer entry cannot be drawn, or "" when it can. */
export function invalidReason(layer, imageSize) {
  if (!layer) return "no layer selected (the model has no feature map with spatial extent)";
  for (const key of ["size_h", "size_w", "stride_h", "stride_w", "out_h", "out_w"]) {
    if (!Number.isInteger(layer[key]) || layer[key] < 1) return `${key} of ${layer.name} is ${layer[key]}`;
  }
  if (!(imageSize >= 1)) return `image size is ${imageSize}`;
  return "";
}

const SVG = "http://www.w3.org/2000/svg";
const signed = (value) => (value < 0 ? `−${-value}` : String(value));
const XLINK = "http://www.w3.org/1999/xlink";
const DRAWING = 430; // display size of the longer side of the drawing, in CSS pixels
const FIELD = "#ff7f0e";
const CENTRE = "#1f77b4";

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function html(tag, style, text) {
  const node = document.createElement(tag);
  if (style) node.style.cssText = style;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  el.classList.add("cnnlib-widget", "cnnlib-model-receptive-field");
  el.style.font = "13px sans-serif";
  const title = html("div", "font-weight:bold;margin-bottom:0.4em");
  title.className = "title";

  const controls = html("div", "display:flex;flex-wrap:wrap;gap:0.4em 1.2em;margin-bottom:0.5em;align-items:center");
  const layerControl = html("label", "display:flex;align-items:center;gap:0.4em", "layer");
  const select = html("select", "max-width:100%;font:12px monospace");
  select.dataset.param = "layer";
  layerControl.append(select);
  controls.append(layerControl);
  const sliders = {};
  for (const [param, label] of [["unit-row", "unit row"], ["unit-col", "unit column"]]) {
    const wrapper = html("label", "display:flex;align-items:center;gap:0.4em", label);
    const slider = document.createElement("input");
    Object.assign(slider, { type: "range", min: 0, max: 0, step: 1 });
    slider.dataset.param = param;
    slider.style.width = "9em";
    const value = html("span", "min-width:2em;font-weight:bold");
    wrapper.append(slider, value);
    controls.append(wrapper);
    sliders[param] = { slider, value };
  }

  const body = html("div", "display:flex;flex-wrap:wrap;gap:0.8em 1.2em;align-items:flex-start");
  const picture = svgElement("svg", { class: "drawing" });
  picture.style.cssText = "max-width:100%;cursor:crosshair;touch-action:none;user-select:none;flex:none";
  const readout = html("div", "min-width:15em;max-width:17em;line-height:1.6");
  readout.className = "readout";
  body.append(picture, readout);

  const legend = html("div", "font-size:12px;color:#444;margin-top:0.4em");
  const swatch = (fill, stroke, dashed, round) =>
    `<span style="display:inline-block;width:0.9em;height:0.9em;vertical-align:middle;background:${fill};` +
    `border:2px ${dashed ? "dashed" : "solid"} ${stroke};${round ? "border-radius:50%;" : ""}margin:0 0.3em 0 0.9em"></span>`;
  legend.innerHTML =
    swatch("rgba(255,127,14,0.25)", FIELD) + "receptive field inside the photo" +
    swatch("#ececec", FIELD, true) + "part in the padding outside it" +
    swatch(CENTRE, "#fff", false, true) + "field centre" +
    swatch("rgba(255,255,255,0.8)", "#555", false, true) + "centres of the other units (click one)";
  el.append(title, controls, body, legend);

  function save() {
    try {
      model.save_changes();
    } catch (error) {
      // No kernel (static HTML): the state lives in the page only.
    }
  }

  function current() {
    const layers = model.get("layers") || [];
    const index = model.get("layer");
    const layer = layers[index];
    let [row, col] = model.get("unit") || [0, 0];
    if (layer && !invalidReason(layer, model.get("image_size"))) {
      row = Math.min(Math.max(row, 0), layer.out_h - 1);
      col = Math.min(Math.max(col, 0), layer.out_w - 1);
    }
    return { layers, index, layer, row, col };
  }

  function choose(row, col) {
    model.set("unit", [row, col]);
    save();
  }

  select.addEventListener("change", () => {
    // Keep looking at the same place: the new layer's unit nearest to the old field's centre.
    const { layer, row, col } = current();
    const next = model.get("layers")[Number(select.value)];
    const n = model.get("image_size");
    model.set("layer", Number(select.value));
    if (layer && next && !invalidReason(layer, n) && !invalidReason(next, n)) {
      const y = unitCentre(row, layer.start_h, layer.stride_h, layer.size_h);
      const x = unitCentre(col, layer.start_w, layer.stride_w, layer.size_w);
      model.set("unit", [
        unitAt(y, next.start_h, next.stride_h, next.size_h, next.out_h),
        unitAt(x, next.start_w, next.stride_w, next.size_w, next.out_w),
      ]);
    }
    save();
  });
  sliders["unit-row"].slider.addEventListener("input", () => choose(Number(sliders["unit-row"].slider.value), current().col));
  sliders["unit-col"].slider.addEventListener("input", () => choose(current().row, Number(sliders["unit-col"].slider.value)));

  let view = null; // [x0, y0, width, height] of the drawing, in input pixels
  function pick(event) {
    const { layer } = current();
    if (!view || !layer || invalidReason(layer, model.get("image_size"))) return;
    const box = picture.getBoundingClientRect();
    if (!box.width || !box.height) return;
    // Pixel i covers [i, i + 1): its index is the coordinate minus one half.
    const x = view[0] + ((event.clientX - box.left) * view[2]) / box.width - 0.5;
    const y = view[1] + ((event.clientY - box.top) * view[3]) / box.height - 0.5;
    choose(
      unitAt(y, layer.start_h, layer.stride_h, layer.size_h, layer.out_h),
      unitAt(x, layer.start_w, layer.stride_w, layer.size_w, layer.out_w)
    );
  }
  picture.addEventListener("pointerdown", (event) => {
    pick(event);
    try {
      picture.setPointerCapture(event.pointerId);
    } catch (error) {
      // Synthetic events have no active pointer.
    }
  });
  picture.addEventListener("pointermove", (event) => {
    if (event.buttons & 1) pick(event);
  });

  function fillSelect(layers, index) {
    const labels = layers.map(layerLabel);
    const existing = [...select.options].map((o) => o.textContent);
    if (existing.join("\n") !== labels.join("\n")) {
      select.replaceChildren(...labels.map((text, i) => Object.assign(document.createElement("option"), { value: String(i), textContent: text, title: layers[i].type })));
    }
    select.value = String(index);
  }

  function draw() {
    const { layers, index, layer, row, col } = current();
    const n = model.get("image_size");
    const name = model.get("model_name");
    title.textContent = `${name}: receptive field of one unit, on a ${n}×${n} input`;
    fillSelect(layers, index);
    picture.replaceChildren();
    const reason = invalidReason(layer, n);
    if (reason) {
      readout.innerHTML = "";
      readout.append(Object.assign(html("span", "color:#b00020"), { className: "invalid", textContent: `invalid: ${reason}` }));
      picture.setAttribute("width", 0);
      picture.setAttribute("height", 0);
      view = null;
      return;
    }
    const { start_h: sh, start_w: sw, stride_h: jh, stride_w: jw, size_h: rh, size_w: rw, out_h: oh, out_w: ow } = layer;
    for (const [param, value, max] of [["unit-row", row, oh - 1], ["unit-col", col, ow - 1]]) {
      sliders[param].slider.max = max;
      sliders[param].slider.value = value;
      sliders[param].value.textContent = value;
    }

    // The drawing covers the photo and every field of this layer, in input pixels.
    // Beyond one image size on each side it is all padding: the rest is cut off.
    const cut = ([from, to]) => [Math.max(from, -n), Math.min(to, 2 * n)];
    const [y0, y1] = cut(layerExtent(sh, jh, rh, oh, n));
    const [x0, x1] = cut(layerExtent(sw, jw, rw, ow, n));
    const margin = Math.max(1, Math.round(n / 80)); // so that outlines at the edge stay whole
    view = [x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin];
    const scale = DRAWING / Math.max(view[2], view[3]);
    picture.setAttribute("viewBox", view.join(" "));
    picture.setAttribute("width", Math.round(view[2] * scale));
    picture.setAttribute("height", Math.round(view[3] * scale));
    const line = { "vector-effect": "non-scaling-stroke", fill: "none" };
    picture.append(svgElement("rect", { x: view[0], y: view[1], width: view[2], height: view[3], fill: "#ececec", class: "padding-area" }));
    const photo = svgElement("image", {
      x: 0, y: 0, width: n, height: n, preserveAspectRatio: "none", class: "photo",
    });
    photo.setAttribute("href", model.get("image_url"));
    photo.setAttributeNS(XLINK, "xlink:href", model.get("image_url"));
    if (scale >= 2) photo.style.imageRendering = "pixelated";
    picture.append(photo, svgElement("rect", { x: 0, y: 0, width: n, height: n, stroke: "#666", "stroke-width": 1, ...line }));

    // Faint dots at every unit's field centre, when they are not too dense to see.
    const dense = oh * ow > 1600 || Math.min(jh, jw) * scale < 10;
    if (!dense) {
      const radius = 1.4 / scale;
      for (let u = 0; u < oh; u++) {
        for (let v = 0; v < ow; v++) {
          if (u === row && v === col) continue;
          picture.append(svgElement("circle", {
            cx: unitCentre(v, sw, jw, rw) + 0.5, cy: unitCentre(u, sh, jh, rh) + 0.5, r: radius,
            fill: "rgba(255,255,255,0.7)", stroke: "rgba(0,0,0,0.4)", "stroke-width": 0.5,
            "vector-effect": "non-scaling-stroke", class: "unit-dot", "data-row": u, "data-col": v,
          }));
        }
      }
    }

    // The field: the whole rectangle dashed, the part inside the photo filled and solid.
    const [top, bottom] = fieldSpan(row, sh, jh, rh);
    const [left, right] = fieldSpan(col, sw, jw, rw);
    picture.append(svgElement("rect", {
      x: left, y: top, width: rw, height: rh, stroke: FIELD, "stroke-width": 2, "stroke-dasharray": "6,4",
      class: "field-outline", ...line,
    }));
    const inH = clipSpan([top, bottom], n);
    const inW = clipSpan([left, right], n);
    if (inH && inW) {
      picture.append(svgElement("rect", {
        x: inW[0], y: inH[0], width: inW[1] - inW[0] + 1, height: inH[1] - inH[0] + 1,
        fill: "rgba(255,127,14,0.25)", stroke: FIELD, "stroke-width": 2.5, "vector-effect": "non-scaling-stroke",
        class: "field-visible",
      }));
    }
    const cy = unitCentre(row, sh, jh, rh) + 0.5;
    const cx = unitCentre(col, sw, jw, rw) + 0.5;
    picture.append(svgElement("circle", {
      cx, cy, r: 4 / scale, fill: CENTRE, stroke: "#fff", "stroke-width": 1.5,
      "vector-effect": "non-scaling-stroke", class: "field-centre", "data-row": row, "data-col": col,
    }));

    // What the picture shows, in numbers.
    const pair = (a, b, cls) => `<b class="${cls}-h">${a}</b> × <b class="${cls}-w">${b}</b>`;
    const visible = inH && inW ? [inH[1] - inH[0] + 1, inW[1] - inW[0] + 1] : [0, 0];
    const share = Math.round((100 * visible[0] * visible[1]) / (rh * rw));
    const notes = [];
    if (rh > n || rw > n) notes.push("The field is larger than the whole input.");
    if (top < y0 || left < x0 || bottom + 1 > y1 || right + 1 > x1) notes.push("Its outline is cut off at the drawing's edge.");
    if (visible[0] * visible[1] < rh * rw) notes.push(`${Math.max(1, 100 - share)}% of it lies in the zero padding outside the input.`);
    readout.innerHTML =
      `<div><span style="color:#666">layer</span> <code class="layer-name">${layer.name}</code> (${layer.type})</div>` +
      `<div>feature map ${pair(oh, ow, "out")} units</div>` +
      `<div>unit (row, col) = (<b class="unit-row">${row}</b>, <b class="unit-col">${col}</b>)</div>` +
      `<div>field size r = ${pair(rh, rw, "rf-size")} px</div>` +
      `<div>effective stride j = ${pair(jh, jw, "rf-stride")} px</div>` +
      `<div>top-left (row, col) = (<b class="rf-top">${top}</b>, <b class="rf-left">${left}</b>) px</div>` +
      `<div>bottom-right = (<b class="rf-bottom">${bottom}</b>, <b class="rf-right">${right}</b>)</div>` +
      `<div>inside the input: ${pair(visible[0], visible[1], "rf-visible")} px</div>` +
      `<div class="formula" style="font:12px monospace;color:#333;margin-top:0.3em">` +
      `<span style="font:11px sans-serif;color:#666">first pixel = start + u·j, last = first + r − 1</span><br>` +
      `rows: ${signed(sh)} + ${row}·${jh} = ${signed(top)}<br>&nbsp;&nbsp;… ${signed(top)} + ${rh} − 1 = ${signed(bottom)}<br>` +
      `cols: ${signed(sw)} + ${col}·${jw} = ${signed(left)}<br>&nbsp;&nbsp;… ${signed(left)} + ${rw} − 1 = ${signed(right)}</div>` +
      (notes.length ? `<div class="note" style="color:#8a4b00;margin-top:0.3em">${notes.join(" ")}</div>` : "") +
      (dense ? `<div style="color:#666;font-size:12px;margin-top:0.3em">Unit centres (every ${jh} px) too dense to draw.</div>` : "");
  }

  for (const trait of ["layers", "layer", "unit", "image_url", "image_size", "model_name"]) model.on(`change:${trait}`, draw);
  draw();
}

export default { render };
