// The AnanaCare page: upload a photo (or look up an image_id) and show what the API answers.
// Plain JavaScript, no build step, no third-party code; every request goes to this service's API.
"use strict";

const $ = (id) => document.getElementById(id);
const KEYPOINT_NAMES = ["right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion"];

function requestHeaders() {
  const key = $("api-key").value.trim();
  return key ? { "X-API-Key": key } : {};
}

// Call the API; resolve with JSON or a Blob, reject with the API's own {code, message, details}.
async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: { ...requestHeaders(), ...(options.headers || {}) } });
  } catch (failure) {
    throw { code: "network_error", message: String(failure) };
  }
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("application/json") ? await response.json() : await response.blob();
  if (!response.ok) {
    throw (body && body.error) || { code: `http_${response.status}`, message: response.statusText };
  }
  return body;
}

function show(id, visible = true) { $(id).hidden = !visible; }

function clearAll() {
  for (const id of ["verdict", "photo-figure", "crop-figure", "checks-section", "analysis-section",
    "concerns-section"]) show(id, false);
  $("checks").querySelector("tbody").replaceChildren();
  $("analysis").replaceChildren();
  $("concerns").replaceChildren();
}

function setVerdict(kind, text, detail) {
  const verdict = $("verdict");
  verdict.className = `verdict ${kind}`;
  verdict.replaceChildren(document.createTextNode(text));
  if (detail) {
    const code = document.createElement("code");
    code.textContent = ` ${detail}`;
    verdict.append(code);
  }
  show("verdict");
}

function showError(error) {
  setVerdict("error", `Error: ${error.message || "request failed"}`, error.code ? `(${error.code})` : "");
}

function format(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map(format).join(" – ");
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3);
  if (typeof value === "object" && "min_quality" in value) return `quality ≥ ${value.min_quality}`;
  return String(value);
}

// OFIQ's native value of a check (ISO/IEC 29794-5), with its unit; the measure's name on hover
function nativeCell(native) {
  const td = cell(native ? `${format(native.value)} ${native.unit}` : "—", "native", "OFIQ native");
  if (native) td.title = `OFIQ ${native.measure}`;
  return td;
}

// A check's name, breakable only after its underscores (illumination_<wbr>uniformity), never mid-word.
function nameCell(name) {
  const td = cell("", "name");
  name.split(/(?<=_)/).forEach((part, index) => {
    if (index) td.append(document.createElement("wbr"));
    td.append(document.createTextNode(part));
  });
  return td;
}

function cell(text, className, label) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  if (label) td.dataset.label = label;
  return td;
}

// passed: true, false, or null when the check could not be measured (no face); a check the
// profile does not require (required: false) that fails is shown as a note, not a failure.
function outcome(check) {
  if (check.passed === null) return ["not measured", "unmeasured"];
  if (check.passed) return ["pass", "pass"];
  return check.required === false ? ["not required", "advisory"] : ["fail", "fail"];
}

function blocking(check) { return check.passed === false && check.required !== false; }

function showChecks(validation) {
  const body = $("checks").querySelector("tbody");
  body.replaceChildren(...validation.checks.map((check) => {
    const row = document.createElement("tr");
    row.dataset.check = check.name;
    const [text, kind] = outcome(check);
    row.className = kind;
    row.append(nameCell(check.name), cell(text, kind), cell(format(check.value), "value", "value"),
      cell(format(check.threshold), "threshold", "threshold"), cell(format(check.quality), "quality", "quality"),
      nativeCell(check.native), cell(check.message, "why"));
    return row;
  }));
  $("profile-used").textContent = `profile: ${validation.profile}`;
  show("checks-section");
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject({ code: "preview_failed", message: "The browser cannot show this photo." });
    image.src = url;
  });
}

async function drawPhoto(url, validation) {
  let image;
  try { image = await loadImage(url); } catch (failure) { return; }  // e.g. a format the browser lacks
  const canvas = $("photo-canvas");
  const scale = Math.min(1, 1200 / Math.max(image.naturalWidth, image.naturalHeight));
  canvas.width = Math.round(image.naturalWidth * scale);
  canvas.height = Math.round(image.naturalHeight * scale);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  const toCanvas = canvas.width / validation.image.width;
  validation.faces.forEach((face, index) => {
    const box = face.box;
    ctx.lineWidth = Math.max(2, canvas.width / 300);
    ctx.strokeStyle = index === 0 ? "#f2a900" : "#b3261e";
    ctx.strokeRect(box.x * toCanvas, box.y * toCanvas, box.width * toCanvas, box.height * toCanvas);
    ctx.fillStyle = "#ff4040";
    for (const name of KEYPOINT_NAMES) {
      const [x, y] = face.keypoints[name];
      ctx.beginPath();
      ctx.arc(x * toCanvas, y * toCanvas, Math.max(2, canvas.width / 250), 0, 2 * Math.PI);
      ctx.fill();
    }
  });
  show("photo-figure");
}

function card(title, entries) {
  const section = document.createElement("div");
  section.className = "card";
  const heading = document.createElement("h3");
  heading.textContent = title;
  const list = document.createElement("dl");
  for (const [name, value] of entries) {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.textContent = format(value);
    list.append(term, detail);
  }
  section.append(heading, list);
  return section;
}

function showAnalysis(body) {
  const results = body.results;
  const cards = [];
  if (results.pose) {
    const p = results.pose;
    cards.push(card("Pose and openness", [["yaw°", p.yaw], ["pitch°", p.pitch], ["roll°", p.roll],
      ["eyes (EAR) right", p.eye_aspect_ratio.right], ["eyes (EAR) left", p.eye_aspect_ratio.left],
      ["mouth opening", p.mouth_opening]]));
  }
  if (results.geometry) {
    cards.push(card("Face geometry", [["width / height", results.geometry.width_to_height],
      ["symmetry", results.geometry.symmetry]]));
  }
  if (results.skin && results.skin.scale) {
    const s = results.skin.scale;
    const measured = Object.entries(results.skin.coverage || {}).map(([region, c]) =>
      [region.replaceAll("_", " "), c.measured ? `${c.area_cm2} cm² of skin` : `not measured: ${c.reason}`]);
    cards.push(card("Skin: scale and regions", [["px/mm", s.px_per_mm], ["scale from", s.method], ...measured]));
  }
  if (results.skin && results.skin.available === false) {
    const why = results.skin.reason === "no_colour" ? "the photo has no colour (grey)" : results.skin.reason;
    cards.push(card("Skin colour", [["not measured", why]]));
  } else if (results.skin && results.skin.overall) {
    const o = results.skin.overall;
    const tone = (results.skin.concerns || {}).tone || {};
    const category = o.ita_category
      ? [["skin type (ITA)", `${o.ita_category}, from ITA ${o.ita_corrected}° under the eye-white reference`]]
      : [["skin type (ITA)", `not given: ${TONE_REASONS[tone.category_reason] || tone.category_reason || "no reference"}`]];
    cards.push(card("Skin colour (overall)", [...category, ["ITA° as photographed", o.ita],
      ["L* a* b*", o.lab.map((v) => v.toFixed(1)).join(" / ")],
      ["redness (mean a*)", o.redness], ["evenness (L* spread)", o.evenness]]));
    for (const [region, r] of Object.entries(results.skin.regions)) {
      cards.push(card(`Skin colour: ${region.replaceAll("_", " ")}`, [["ITA° as photographed", r.ita],
        ["redness (mean a*)", r.redness], ["evenness (L* spread)", r.evenness]]));
    }
  }
  if (results.measurements) {
    cards.push(card("Measurements", Object.entries(results.measurements)));
  }
  for (const [name, output] of Object.entries(results.models || {})) {
    const rows = output.predictions ? output.predictions.map((p) => [p.label, p.score])
      : Object.entries(output.outputs || {}).map(([key, values]) => [key, values.slice(0, 4)]);
    cards.push(card(`Model: ${name}`, rows));
  }
  for (const [name, reason] of Object.entries(body.unavailable || {})) {
    cards.push(card(`Model: ${name} (unavailable)`, [["stage", reason.stage], ["error", reason.error]]));
  }
  $("analysis").replaceChildren(...cards);
  show("analysis-section");
  if (results.skin && results.skin.concerns) showConcerns(body.image_id, results.skin.concerns);
}

// Why the tone concern gives no skin type, in words.
const TONE_REASONS = {
  eyes_not_visible: "the eyes do not show enough white to correct the light",
  eye_whites_clipped: "the whites of the eyes are overexposed",
  uneven_light: "the two eyes are in different light",
  eye_whites_coloured: "the light is too coloured to correct",
};

// What a concern found, beyond its score: only what was measured (no kind for dark circles judged none).
function concernDetails(name, concern) {
  if (!concern.available) return "";
  if (name === "spots") return `, ${concern.count} spots`;
  if (name === "dark_circles" && concern.severity !== "none") return `, ${concern.kind}`;
  return "";
}

// One figure per skin concern: its heatmap on the crop (click to enlarge), the score and the raw value (or why not).
function showConcerns(imageId, concerns) {
  const figures = Object.entries(concerns).map(([name, concern]) => {
    const figure = document.createElement("figure");
    figure.className = "concern";
    figure.dataset.concern = name;
    const link = document.createElement("a");
    link.className = "enlarge";
    link.title = "Open the heatmap at full size";
    const image = document.createElement("img");
    image.alt = `${name} heatmap`;
    link.append(image);
    const caption = document.createElement("figcaption");
    const title = name.replaceAll("_", " ");
    caption.textContent = concern.available
      ? `${title}: ${concern.score}/100 (${concern.severity}), ${concern.value} ${concern.unit}${concernDetails(name, concern)}`
      : `${title}: not measured (${concern.reason}${concern.min_px_per_mm ? `, needs ${concern.min_px_per_mm} px/mm` : ""})`;
    figure.append(link, caption);
    api(`/api/images/${encodeURIComponent(imageId)}/skin/${name}.png`)
      .then((blob) => {
        image.src = URL.createObjectURL(blob);
        link.href = image.src;
        link.onclick = (event) => { event.preventDefault(); openLightbox(image.src, caption.textContent); };
      })
      .catch(() => { image.alt = `${name}: no heatmap`; });
    return figure;
  });
  $("concerns").replaceChildren(...figures);
  show("concerns-section");
}

// A heatmap at full size over the page; a click or Escape closes it.
function openLightbox(source, text) {
  const box = $("lightbox");
  $("lightbox-image").src = source;
  $("lightbox-caption").textContent = text;
  box.hidden = false;
  box.focus();
}

function closeLightbox() {
  $("lightbox").hidden = true;
}

async function showStored(imageId) {
  // by-id first: it checks the id and words any problem (invalid_image_id, image_not_found, ...)
  const analysis = await api("/api/analyze/by-id", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ image_id: imageId }),
  });
  const overlay = await api(`/api/images/${encodeURIComponent(imageId)}/overlay.png`);
  $("crop-image").src = URL.createObjectURL(overlay);
  $("crop-caption").textContent = `The square crop ${imageId}, with the face box, keypoints and 468 landmarks`;
  $("crop-figure").dataset.imageId = imageId;
  show("crop-figure");
  showAnalysis(analysis);
}

async function handleFile(file) {
  clearAll();
  setVerdict("pending", `Checking ${file.name}…`);
  const form = new FormData();
  form.append("image", file);
  try {
    const profile = encodeURIComponent($("profile").value);
    const validation = await api(`/api/validate/image?profile=${profile}`, { method: "POST", body: form });
    const failed = validation.checks.filter(blocking);
    if (validation.valid) {
      setVerdict("valid", "valid: this photo can be used.");
    } else {
      setVerdict("invalid", `not valid: ${failed.map((check) => check.message).join(" ")}`);
    }
    showChecks(validation);
    await drawPhoto(URL.createObjectURL(file), validation);
    if (validation.image_id) await showStored(validation.image_id);
  } catch (error) {
    showError(error);
  }
}

async function lookUp(event) {
  event.preventDefault();
  const imageId = $("lookup-id").value.trim();
  clearAll();
  try {
    await showStored(imageId);
    setVerdict("valid", `Found the stored crop ${imageId}.`);
  } catch (error) {
    showError(error);
  }
}

function setUp() {
  $("photo-input").addEventListener("change", (event) => {
    if (event.target.files.length) handleFile(event.target.files[0]);
  });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer.files.length) handleFile(event.dataTransfer.files[0]);
  });
  $("lookup-form").addEventListener("submit", lookUp);
  $("lightbox").addEventListener("click", closeLightbox);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeLightbox(); });
}

setUp();
