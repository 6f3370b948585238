// Upload with a progress bar: XHR, because fetch cannot report upload progress.
import { csrfToken, errorMessage, gettext, interpolate } from "../miniapp/api.js";

const form = document.querySelector(".upload-form");
const progress = form.querySelector(".upload-progress");
const status = form.querySelector(".upload-status");
const button = form.querySelector("button[type=submit]");
const maxBytes = Number(form.dataset.maxBytes) * 1024 * 1024;

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("is-error", isError);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const file = form.elements.file.files[0];
  if (file && file.size > maxBytes) {
    say(interpolate(gettext("This file is too big: videos can be at most %s MB."), [form.dataset.maxBytes]), true);
    return;
  }
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  request.setRequestHeader("X-CSRFToken", csrfToken());
  request.setRequestHeader("Accept", "application/json");
  request.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    progress.value = Math.round((e.loaded / e.total) * 100);
    say(progress.value < 100 ? gettext("Uploading…") : gettext("Processing the video…"));
  });
  request.addEventListener("load", () => {
    button.disabled = false;
    let body = {};
    try {
      body = JSON.parse(request.responseText);
    } catch {
      body = {};
    }
    if (request.status === 201) {
      say(gettext("Done!"));
      window.location.assign(new URL(body.page_url).pathname);
      return;
    }
    progress.hidden = true;
    say(errorMessage(body, gettext("The upload failed. Please try again.")), true);
  });
  request.addEventListener("error", () => {
    button.disabled = false;
    progress.hidden = true;
    say(gettext("The network failed. Check your connection and try again."), true);
  });
  button.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  say(gettext("Uploading…"));
  request.send(new FormData(form));
});
