// Gestures: a tap pauses or plays, a double tap likes, ♥ likes or unlikes, 展开 opens a
// description, a link (the author's name or avatar) is followed; the keyboard moves between videos (a swipe is the browser's own scroll,
// snapped by the CSS).
import { toggleMore } from "./cards.js";
import { feed, slides } from "./page.js";
import { doubleTap, toggleLike } from "./likes.js";
import { current, togglePause } from "./playback.js";

const DOUBLE_TAP_MS = 280;
let lastTap = { time: 0, slide: null, timer: null };

function onClick(event) {
  const slide = event.target.closest(".slide");
  if (!slide) return;
  if (event.target.closest(".action-like")) return toggleLike(slide);
  if (event.target.closest(".slide-more")) return toggleMore(slide);
  if (event.target.closest(".slide-actions, .slide-progress, a")) return;
  const now = Date.now();
  if (lastTap.slide === slide && now - lastTap.time < DOUBLE_TAP_MS) {
    clearTimeout(lastTap.timer);
    lastTap = { time: 0, slide: null, timer: null };
    doubleTap(slide, event.clientX, event.clientY);
    return;
  }
  lastTap = { time: now, slide, timer: setTimeout(() => togglePause(slide), DOUBLE_TAP_MS) };
}

function step(direction) {
  const list = slides();
  const target = list[list.indexOf(current()) + direction];
  if (target) target.scrollIntoView({ behavior: "smooth", block: "start" });
}

function onKey(event) {
  const slide = current();
  if (event.key === "l" && slide && !event.target.closest("input, textarea")) return toggleLike(slide);
  if (event.target.closest("input, textarea, select, button") || event.altKey || event.metaKey) return;
  if (["ArrowDown", "PageDown", "j"].includes(event.key)) step(1);
  else if (["ArrowUp", "PageUp", "k"].includes(event.key)) step(-1);
  else if (event.key === " " && slide) togglePause(slide);
  else return;
  event.preventDefault();
}

export function start() {
  feed.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
}
