// Views: one counts once the video on screen has played VIEW_SECONDS, seeks and the loop
// back to 0 left out (the server counts a visitor's view of a video once a day).
import { request, url } from "../../miniapp/api.js";
import { videoOf } from "./page.js";
import { current } from "./playback.js";

const VIEW_SECONDS = 2;
const reported = new Set();
let watched = { slide: null, seconds: 0, last: 0 };

function onTime(event) {
  const video = event.target;
  const slide = video.closest(".slide");
  if (slide !== current() || video.paused) return;
  if (watched.slide !== slide) watched = { slide, seconds: 0, last: video.currentTime };
  const step = video.currentTime - watched.last;
  watched.last = video.currentTime;
  if (step > 0 && step < 1.5) watched.seconds += step; // not a seek, not the loop back to 0
  if (watched.seconds >= VIEW_SECONDS && !reported.has(slide.dataset.id)) report(slide.dataset.id, watched.seconds);
}

function report(id, seconds) {
  reported.add(id);
  request(url("api-views", id), { method: "POST", json: { seconds }, keepalive: true }).catch((error) => {
    if (error.network) reported.delete(id); // offline: try again on the next timeupdate
  });
}

// Count this slide's playing time.
export const track = (slide) => videoOf(slide).addEventListener("timeupdate", onTime);

// The slide came on screen: its time counts from here.
export function restart(slide) {
  watched = { slide, seconds: 0, last: videoOf(slide).currentTime };
}
