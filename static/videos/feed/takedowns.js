// Takedowns: a video a moderator took down leaves the feed at once, live over the page's
// socket (signed in); the one playing stays with a notice saying why.
import { gettext } from "../../miniapp/api.js";
import { subscribe } from "../../realtime/events.js";
import { feed } from "./page.js";
import { current, detach, unobserve } from "./playback.js";

function drop({ id }) {
  const slide = feed.querySelector(`.slide[data-id="${id}"]`);
  if (!slide) return;
  if (slide !== current()) {
    unobserve(slide);
    detach(slide);
    slide.remove();
    return;
  }
  detach(slide);
  slide.classList.add("is-gone");
  const notice = document.createElement("p");
  notice.className = "slide-gone";
  notice.textContent = gettext("This video is no longer available.");
  slide.append(notice);
}

export const start = () => subscribe("video-gone", drop);
