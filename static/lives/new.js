// /live/new/: announce a live, from my camera (previewed here) or one of my videos played as
// live, then go on air at once unless a start time was given. The room page then sends the
// camera (live.js).
import { gettext, request, url } from "../miniapp/api.js";
import { Camera } from "./camera.js";

const form = document.querySelector(".live-form");
const error = form.querySelector(".form-error");
const cameraPart = form.querySelector(".live-camera");
const videosPart = form.querySelector(".live-videos");
const message = form.querySelector(".live-camera-message");
const flip = form.querySelector(".live-flip-preview");
const camera = new Camera(form.querySelector(".live-preview"));

const source = () => new FormData(form).get("source");

async function preview() {
  message.textContent = gettext("Opening the camera…");
  try {
    await camera.open();
    message.textContent = "";
    flip.hidden = false;
  } catch (failure) {
    message.textContent = failure.message; // refused, or no camera: said plainly
    flip.hidden = true;
  }
}

function showSource() {
  const fromCamera = source() === "camera";
  cameraPart.hidden = !fromCamera;
  videosPart.hidden = fromCamera;
  if (fromCamera && !camera.stream) preview();
  if (!fromCamera) camera.close();
}

form.addEventListener("change", (event) => event.target.name === "source" && showSource());
flip.addEventListener("click", () => camera.switch().catch((failure) => (message.textContent = failure.message)));

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  const startsAt = data.get("starts_at");
  const body = { title: (data.get("title") || "").trim() };
  if (source() === "video") body.video = Number(data.get("video"));
  else body.keep_replay = data.get("keep_replay") === "on";
  if (startsAt) body.starts_at = new Date(startsAt).toISOString();
  body.groups = data.getAll("groups").map(Number);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    let live = await request(url("api-lives"), { method: "POST", json: body, fallback: gettext("Could not start the live.") });
    if (!startsAt) live = await request(url("api-live-start", live.id), { method: "POST" });
    camera.close(); // the room opens it again, and sends it
    window.location.assign(live.page_url);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    button.disabled = false;
  }
});

showSource();
