// /live/new/: announce a live (one of my videos played as the live), then go on air at once
// unless a start time was given.
import { gettext, request, url } from "../miniapp/api.js";

const form = document.querySelector(".live-form");
const error = form?.querySelector(".form-error");

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const data = new FormData(form);
  const startsAt = data.get("starts_at");
  const body = { title: (data.get("title") || "").trim(), video: Number(data.get("video")) };
  if (startsAt) body.starts_at = new Date(startsAt).toISOString();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    let live = await request(url("api-lives"), { method: "POST", json: body, fallback: gettext("Could not start the live.") });
    if (!startsAt) live = await request(url("api-live-start", live.id), { method: "POST" });
    window.location.assign(live.page_url);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    button.disabled = false;
  }
});
