// The page of `ocrai serve`: sends a dropped file to POST /v1/read and draws the result.
// Plain browser JavaScript, no build step and nothing fetched from elsewhere.
"use strict";

const drop = document.getElementById("drop");
const input = document.getElementById("file");
const statusLine = document.getElementById("status");
const result = document.getElementById("result");
const downloads = document.getElementById("downloads");
const SVG = "http://www.w3.org/2000/svg";
const EXTENSIONS = { json: "json", hocr: "hocr", alto: "xml", pdf: "pdf" };
let current = null; // the File being shown

function say(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

// Red below 0.5 confidence, amber at 0.75, green at 1 (as ocrai.export.confidence_colour).
function colour(confidence) {
  const t = Math.min(Math.max((confidence - 0.5) / 0.5, 0), 1);
  if (t < 0.5) {
    const u = t / 0.5;
    return `rgb(${Math.round(220 + 15 * u)},${Math.round(40 + 120 * u)},${Math.round(40 - 40 * u)})`;
  }
  const u = (t - 0.5) / 0.5;
  return `rgb(${Math.round(235 - 205 * u)},160,${Math.round(60 * u)})`;
}

async function read(file, query) {
  const response = await fetch(`/v1/read?${query}`, {
    method: "POST",
    headers: { "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const error = await response.json();
      message = `${response.status}: ${error.message}`;
    } catch (e) { /* not JSON: keep the status line */ }
    throw new Error(message);
  }
  return response;
}

function displayable(file) {
  return /^image\/(png|jpeg|gif|webp|bmp)$/.test(file.type);
}

function polygon(quad, cls, index, confidence, text) {
  const shape = document.createElementNS(SVG, "polygon");
  shape.setAttribute("points", quad.map((p) => p.join(",")).join(" "));
  shape.setAttribute("class", cls);
  shape.setAttribute("stroke", colour(confidence));
  shape.dataset.line = String(index);
  const title = document.createElementNS(SVG, "title");
  title.textContent = `${text} (${confidence.toFixed(2)})`;
  shape.appendChild(title);
  return shape;
}

function highlight(section, index, on) {
  section.querySelectorAll(`[data-line="${index}"]`).forEach((el) => el.classList.toggle("hot", on));
}

function showPage(page, imageUrl, drawBoxes) {
  const section = document.createElement("section");
  section.className = "page";
  const stage = document.createElement("div");
  stage.className = "stage";
  const img = document.createElement("img");
  img.src = imageUrl;
  img.alt = `page ${page.page + 1}`;
  stage.appendChild(img);
  if (drawBoxes) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${page.width} ${page.height}`);
    svg.setAttribute("preserveAspectRatio", "none");
    page.lines.forEach((line, i) => {
      svg.appendChild(polygon(line.quad, "line", i, line.confidence, line.text));
      for (const word of line.words) {
        svg.appendChild(polygon(word.quad, "word", i, word.confidence, word.text));
      }
    });
    stage.appendChild(svg);
  }
  const text = document.createElement("div");
  text.className = "text";
  page.lines.forEach((line, i) => {
    const p = document.createElement("p");
    p.textContent = line.text;
    p.style.borderLeftColor = colour(line.confidence);
    p.dataset.line = String(i);
    text.appendChild(p);
  });
  section.append(stage, text);
  section.addEventListener("mouseover", (e) => {
    const index = e.target.dataset ? e.target.dataset.line : undefined;
    if (index !== undefined) highlight(section, index, true);
  });
  section.addEventListener("mouseout", (e) => {
    const index = e.target.dataset ? e.target.dataset.line : undefined;
    if (index !== undefined) highlight(section, index, false);
  });
  result.appendChild(section);
}

async function show(file) {
  current = file;
  result.replaceChildren();
  downloads.hidden = true;
  say(`Reading ${file.name}…`);
  const started = performance.now();
  try {
    const document_ = await (await read(file, "format=json")).json();
    const pages = document_.pages;
    for (const page of pages) {
      if (displayable(file)) {
        showPage(page, URL.createObjectURL(file), true);
      } else {
        // PDF and TIFF pages are drawn by the server (format=overlay): boxes and text.
        const png = await (await read(file, `format=overlay&page=${page.page}`)).blob();
        showPage(page, URL.createObjectURL(png), false);
      }
    }
    const lines = pages.reduce((n, p) => n + p.lines.length, 0);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    say(`${file.name}: ${pages.length} page(s), ${lines} line(s) in ${seconds} s`);
    downloads.hidden = false;
  } catch (error) {
    say(`${file.name}: ${error.message}`, true);
  }
}

async function download(format) {
  if (!current) return;
  say(`Preparing ${format.toUpperCase()}…`);
  try {
    const blob = await (await read(current, `format=${format}`)).blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = current.name.replace(/\.[^.]*$/, "") + "." + EXTENSIONS[format];
    document.body.appendChild(link);
    link.click();
    link.remove();
    say(`Downloaded ${link.download}`);
  } catch (error) {
    say(`${format.toUpperCase()}: ${error.message}`, true);
  }
}

input.addEventListener("change", () => { if (input.files.length) show(input.files[0]); });
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files.length) show(e.dataTransfer.files[0]);
});
downloads.addEventListener("click", (e) => {
  const format = e.target.dataset ? e.target.dataset.format : undefined;
  if (format) download(format);
});
