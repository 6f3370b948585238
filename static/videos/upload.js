// Publishing a video (发布作品): pick one (or record it, where the phone offers its camera), see
// it, choose its cover among frames drawn from it, title it, and publish it with a progress bar
// and 取消. The checks the page can make (size, length) come first; the server makes them all
// again, and its answer is shown as it comes. XHR, because fetch cannot report upload progress.
import { csrfToken, errorMessage, gettext, interpolate } from "../miniapp/api.js";

const page = document.querySelector(".publish");
const form = page.querySelector(".upload-form");
const preview = form.querySelector(".publish-preview");
const noPreview = form.querySelector(".publish-no-preview");
const covers = form.querySelector(".publish-covers");
const strip = form.querySelector(".publish-cover-strip");
const coverAt = form.elements.cover_at;
const title = form.elements.title;
const description = form.elements.description;
const submit = form.querySelector(".publish-submit");
const status = form.querySelector(".upload-status");
const bar = form.querySelector(".publish-bar-fill");
const percent = form.querySelector(".publish-percent");
const sending = form.querySelector(".publish-sending");
const maxBytes = Number(form.dataset.maxBytes) * 1024 * 1024;
const maxSeconds = Number(form.dataset.maxSeconds);
const COVERS = 8;

let file = null;
let fileUrl = "";
let upload = null; // the XHR under way
let picking = 0; // which pick the cover frames being drawn belong to

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("is-error", isError);
}

function show(state) {
  page.dataset.state = state;
  form.querySelector(".publish-pick").hidden = state !== "pick";
  form.querySelector(".publish-edit").hidden = state === "pick";
  sending.hidden = state !== "sending";
  submit.hidden = state === "pick";
  for (const field of [title, description]) field.disabled = state === "sending";
  updateSubmit();
}

function updateSubmit() {
  submit.disabled = !file || !title.value.trim() || page.dataset.state === "sending";
  for (const counter of form.querySelectorAll(".publish-count")) {
    const field = form.elements[counter.dataset.for];
    counter.textContent = `${field.value.length}/${field.maxLength}`;
  }
}

// The video's length as the browser reads it; null when it cannot (the server still can).
function lengthOf(video) {
  return new Promise((resolve) => {
    if (video.readyState >= HTMLMediaElement.HAVE_METADATA) return resolve(video.duration);
    video.addEventListener("loadedmetadata", () => resolve(video.duration), { once: true });
    video.addEventListener("error", () => resolve(null), { once: true });
  });
}

function seek(video, time) {
  return new Promise((resolve, reject) => {
    video.addEventListener("seeked", resolve, { once: true });
    video.addEventListener("error", reject, { once: true });
    video.currentTime = time;
  });
}

// COVERS frames spread over the video, drawn by the browser from the file itself: nothing is sent
// until the viewer publishes. The chosen one's time goes with the upload (`cover_at`).
async function drawCovers(url, duration, pick) {
  const source = document.createElement("video");
  Object.assign(source, { muted: true, playsInline: true, preload: "auto", src: url });
  if ((await lengthOf(source)) === null) return;
  const canvas = document.createElement("canvas");
  for (let index = 0; index < COVERS; index += 1) {
    const time = Math.min(duration - 0.05, (duration * (index + 0.5)) / COVERS);
    try {
      await seek(source, time);
    } catch {
      return;
    }
    if (pick !== picking) return; // another video was picked meanwhile
    const scale = 192 / Math.max(source.videoWidth, source.videoHeight, 1);
    canvas.width = Math.max(1, Math.round(source.videoWidth * scale));
    canvas.height = Math.max(1, Math.round(source.videoHeight * scale));
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    const option = document.createElement("button");
    option.type = "button";
    option.className = "publish-cover";
    option.setAttribute("role", "radio");
    option.setAttribute("aria-checked", String(index === 0));
    option.setAttribute("aria-label", interpolate(gettext("Frame at %s s"), [time.toFixed(1)]));
    option.dataset.time = time.toFixed(2);
    const image = document.createElement("img");
    image.alt = "";
    image.src = canvas.toDataURL("image/jpeg", 0.7);
    option.append(image);
    strip.append(option);
    if (index === 0) coverAt.value = option.dataset.time;
    covers.hidden = false;
  }
  source.removeAttribute("src");
  source.load();
}

async function pick(chosen) {
  if (!chosen) return;
  say("");
  if (!chosen.type.startsWith("video/") && !/\.(mp4|mov|m4v|3gp|webm|mkv)$/i.test(chosen.name)) {
    say(gettext("This is not a video. Choose a video file."), true);
    return;
  }
  if (chosen.size > maxBytes) {
    say(interpolate(gettext("This file is too big: videos can be at most %s MB."), [form.dataset.maxBytes]), true);
    return;
  }
  picking += 1;
  const pickNumber = picking;
  if (fileUrl) URL.revokeObjectURL(fileUrl);
  file = chosen;
  fileUrl = URL.createObjectURL(chosen);
  strip.replaceChildren();
  covers.hidden = true;
  coverAt.value = "";
  preview.hidden = false;
  noPreview.hidden = true;
  preview.src = fileUrl;
  show("edit");
  updateSubmit();
  const duration = await lengthOf(preview);
  if (pickNumber !== picking) return;
  if (duration === null || !Number.isFinite(duration)) {
    preview.hidden = true; // e.g. HEVC in a browser without it: the server converts it
    noPreview.hidden = false;
    return;
  }
  if (duration > maxSeconds + 0.5) {
    say(interpolate(gettext("This video is %(length)s seconds long: videos can be at most %(max)s."), { length: Math.round(duration), max: maxSeconds }, true), true);
    file = null;
    updateSubmit();
    return;
  }
  preview.play().catch(() => {});
  drawCovers(fileUrl, duration, pickNumber);
}

function choose(option) {
  for (const other of strip.querySelectorAll(".publish-cover")) other.setAttribute("aria-checked", String(other === option));
  coverAt.value = option.dataset.time;
  preview.pause();
  preview.currentTime = Number(option.dataset.time); // the preview shows the cover chosen
}

function send(event) {
  event.preventDefault();
  if (!file || !title.value.trim()) {
    say(gettext("Choose a video and give it a title."), true);
    (file ? title : form.querySelector(".publish-file")).focus();
    return;
  }
  const body = new FormData();
  body.append("file", file, file.name);
  body.append("title", title.value.trim());
  body.append("description", description.value);
  if (coverAt.value) body.append("cover_at", coverAt.value);
  const request = new XMLHttpRequest();
  upload = request;
  request.open("POST", form.action);
  request.setRequestHeader("X-CSRFToken", csrfToken());
  request.setRequestHeader("Accept", "application/json");
  request.upload.addEventListener("progress", (progress) => {
    if (!progress.lengthComputable) return;
    const done = Math.round((progress.loaded / progress.total) * 100);
    bar.style.width = `${done}%`;
    if (done < 100) {
      percent.textContent = interpolate(gettext("Uploading… %s%"), [done]);
    } else {
      // Sent: the server checks and converts it now, which cannot be stopped from here.
      sending.classList.add("is-processing");
      percent.textContent = gettext("Processing the video…");
      form.querySelector(".publish-cancel").hidden = true;
    }
  });
  request.addEventListener("load", () => {
    upload = null;
    let answer = {};
    try {
      answer = JSON.parse(request.responseText);
    } catch {
      answer = {};
    }
    if (request.status === 201) {
      percent.textContent = gettext("Published!");
      window.location.assign(new URL(answer.page_url).pathname);
      return;
    }
    show("edit");
    say(errorMessage(answer, gettext("The upload failed. Please try again.")), true);
  });
  request.addEventListener("error", () => {
    upload = null;
    show("edit");
    say(gettext("The network failed. Check your connection and try again."), true);
  });
  request.addEventListener("abort", () => {
    upload = null;
    show("edit");
    say(gettext("Upload cancelled. Your video and title are still here."));
  });
  sending.classList.remove("is-processing");
  form.querySelector(".publish-cancel").hidden = false;
  bar.style.width = "0%";
  percent.textContent = interpolate(gettext("Uploading… %s%"), [0]);
  say("");
  show("sending");
  request.send(body);
}

for (const input of form.querySelectorAll(".publish-file")) {
  input.addEventListener("change", () => {
    pick(input.files[0]);
    input.value = ""; // the same file picked again is a change too
  });
}
const pickCard = form.querySelector(".publish-pick");
pickCard.addEventListener("dragover", (event) => {
  event.preventDefault();
  pickCard.classList.add("is-over");
});
pickCard.addEventListener("dragleave", () => pickCard.classList.remove("is-over"));
pickCard.addEventListener("drop", (event) => {
  event.preventDefault();
  pickCard.classList.remove("is-over");
  pick(event.dataTransfer.files[0]);
});
strip.addEventListener("click", (event) => {
  const option = event.target.closest(".publish-cover");
  if (option) choose(option);
});
form.querySelector(".publish-again").addEventListener("click", () => {
  preview.pause();
  file = null;
  show("pick");
});
form.querySelector(".publish-cancel").addEventListener("click", () => upload?.abort());
title.addEventListener("input", updateSubmit);
description.addEventListener("input", updateSubmit);
form.addEventListener("submit", send);
window.addEventListener("beforeunload", (event) => {
  if (upload) event.preventDefault(); // an upload under way: ask before leaving
});
show("pick");
