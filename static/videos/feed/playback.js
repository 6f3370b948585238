// Playback: the slide that is 60 % visible plays (muted, inline), the next one is
// preloaded and no more; slides further away give their video back.
// Posters: the first slide's comes with the page (feed.html preloads it). The next two slides'
// come once the viewer starts moving through the feed (a touch, the wheel, a key, a scroll), and
// from then on with each slide that shows: the first screen fetches no picture it does not show.
import { gettext } from "../../miniapp/api.js";
import { feed, slides, videoOf } from "./page.js";

const soundToggle = document.querySelector(".sound-toggle");
let playing = null;
let soundOn = false;
let moved = false;
let hooks = { onActivate: () => {}, onNearEnd: () => {} };

// The slide on screen (null before the first one shows).
export const current = () => playing;

function attach(slide) {
  const video = videoOf(slide);
  if (!video.getAttribute("src")) video.src = video.dataset.src;
}

function showPoster(slide) {
  const video = videoOf(slide);
  if (!video.getAttribute("poster")) video.poster = video.dataset.poster;
}

// The poster of the slide on screen and, once the viewer has moved, of the next two.
function showPosters(slide) {
  const list = slides();
  const index = list.indexOf(slide);
  list.slice(index, index + (moved ? 3 : 1)).forEach(showPoster);
}

function startMoving(events) {
  moved = true;
  events.abort();
  if (playing) showPosters(playing);
}

export function detach(slide) {
  const video = videoOf(slide);
  if (!video.getAttribute("src")) return;
  video.pause();
  video.removeAttribute("src");
  video.load(); // frees the decoder and the buffered data
}

// A spinner over the slide while its video has nothing to show yet, or stalls (the poster, if any,
// under it): not a black screen that looks broken. Shown as it is asked to play (`play`), and as it
// waits for data; gone as soon as it plays, pauses, fails or is given back.
function watchLoading(slide) {
  const video = videoOf(slide);
  video.addEventListener("waiting", () => slide.classList.add("is-loading"));
  for (const done of ["playing", "pause", "error", "emptied"]) {
    video.addEventListener(done, () => slide.classList.remove("is-loading"));
  }
}

function waitForTap(slide) {
  slide.classList.remove("is-loading"); // it waits for a tap now, not for data
  slide.classList.add("is-paused");
}

function play(slide) {
  const video = videoOf(slide);
  if (video.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) slide.classList.add("is-loading");
  video.muted = !soundOn;
  video.play().then(
    () => slide.classList.remove("is-paused"),
    () => {
      if (!video.muted) {
        // Sound needs a tap first on this browser: fall back to muted.
        setSound(false);
        video.muted = true;
        video.play().catch(() => waitForTap(slide));
      } else {
        waitForTap(slide);
      }
    },
  );
}

function activate(slide) {
  if (playing === slide) return;
  playing = slide;
  hooks.onActivate(slide);
  const list = slides();
  const index = list.indexOf(slide);
  list.forEach((other, i) => {
    const video = videoOf(other);
    if (i === index) {
      video.preload = "auto";
      attach(other);
      play(other);
    } else if (i === index + 1) {
      video.pause();
      video.preload = "auto";
      attach(other);
    } else {
      video.pause();
      video.preload = "none";
      if (Math.abs(i - index) > 1) detach(other);
    }
  });
  showPosters(slide);
  if (index >= list.length - 3) hooks.onNearEnd();
}

export function togglePause(slide) {
  const video = videoOf(slide);
  if (video.paused) {
    play(slide);
  } else {
    video.pause();
    slide.classList.add("is-paused");
  }
}

function setSound(on) {
  soundOn = on;
  if (!soundToggle) return;
  soundToggle.setAttribute("aria-pressed", String(on));
  soundToggle.textContent = on ? gettext("Mute") : gettext("Sound on");
}

const observer = new IntersectionObserver(
  (entries) => entries.forEach((entry) => entry.isIntersecting && activate(entry.target)),
  { root: feed, threshold: 0.6 },
);

export function observe(slide) {
  watchLoading(slide);
  observer.observe(slide);
}
export const unobserve = (slide) => observer.unobserve(slide);

// first: the slide to start at (the first one if not given); onActivate(slide): another slide is
// on screen; onNearEnd(): three slides or fewer are left.
export function start({ first, onActivate, onNearEnd }) {
  hooks = { onActivate, onNearEnd };
  const events = new AbortController();
  for (const type of ["touchstart", "pointerdown", "wheel", "keydown", "scroll"]) {
    // Captured on the document: a scroll of the feed does not bubble.
    const options = { capture: true, passive: true, signal: events.signal };
    document.addEventListener(type, () => startMoving(events), options);
  }
  document.addEventListener("visibilitychange", () => {
    if (!playing) return;
    if (document.hidden) videoOf(playing).pause();
    else play(playing);
  });
  if (soundToggle) {
    soundToggle.hidden = false;
    soundToggle.addEventListener("click", () => {
      setSound(!soundOn);
      if (playing) {
        videoOf(playing).muted = !soundOn;
        if (soundOn) play(playing);
      }
    });
  }
  const initial = first ?? slides()[0];
  if (initial) activate(initial);
}
