// The progress bar at the foot of each slide: where its video is, and a drag (or a tap) on it
// goes elsewhere in the video, with the time shown large while the finger is down; ←/→ go
// 5 s back or on. Media events don't bubble: the feed listens in the capture phase.
import { feed, videoOf } from "./page.js";
import { current } from "./playback.js";

const STEP_SECONDS = 5;

const barOf = (slide) => slide.querySelector(".slide-progress");

function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function draw(slide) {
  const video = videoOf(slide);
  const bar = barOf(slide);
  if (!bar) return;
  const duration = Number.isFinite(video.duration) ? video.duration : 0;
  const fraction = duration ? Math.min(1, video.currentTime / duration) : 0;
  bar.querySelector(".slide-progress-fill").style.transform = `scaleX(${fraction})`;
  bar.setAttribute("aria-valuemax", String(Math.round(duration)));
  bar.setAttribute("aria-valuenow", String(Math.round(video.currentTime)));
  bar.setAttribute("aria-valuetext", `${clock(video.currentTime)} / ${clock(duration)}`);
  bar.querySelector(".slide-progress-time").textContent = `${clock(video.currentTime)} / ${clock(duration)}`;
}

function seekTo(slide, seconds) {
  const video = videoOf(slide);
  if (!video.getAttribute("src") || !Number.isFinite(video.duration)) return;
  video.currentTime = Math.max(0, Math.min(video.duration - 0.05, seconds));
  draw(slide);
}

function seekToPointer(slide, event) {
  const box = barOf(slide).getBoundingClientRect();
  seekTo(slide, ((event.clientX - box.left) / box.width) * videoOf(slide).duration);
}

function onPointerDown(event) {
  const bar = event.target.closest(".slide-progress");
  if (!bar || event.button > 0) return;
  const slide = bar.closest(".slide");
  event.preventDefault();
  bar.setPointerCapture(event.pointerId);
  slide.classList.add("is-scrubbing");
  seekToPointer(slide, event);
  const move = (moved) => seekToPointer(slide, moved);
  const end = () => {
    slide.classList.remove("is-scrubbing");
    bar.removeEventListener("pointermove", move);
    bar.removeEventListener("pointerup", end);
    bar.removeEventListener("pointercancel", end);
  };
  bar.addEventListener("pointermove", move);
  bar.addEventListener("pointerup", end);
  bar.addEventListener("pointercancel", end);
}

function onKey(event) {
  if (event.target.closest("input, textarea, select") || event.altKey || event.metaKey || event.ctrlKey) return;
  if (document.body.classList.contains("has-sheet")) return; // a sheet over the video has the keys
  const step = { ArrowLeft: -STEP_SECONDS, ArrowRight: STEP_SECONDS }[event.key];
  const slide = current();
  if (!step || !slide) return;
  event.preventDefault();
  seekTo(slide, videoOf(slide).currentTime + step);
}

export function start() {
  for (const type of ["timeupdate", "durationchange", "seeked", "emptied"]) {
    feed.addEventListener(type, (event) => draw(event.target.closest(".slide")), true);
  }
  feed.addEventListener("pointerdown", onPointerDown);
  document.addEventListener("keydown", onKey);
}
