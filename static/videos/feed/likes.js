// Likes: the button answers at once and the server's answer settles it, or rolls it back
// with the server's reason. A double tap likes (never unlikes) with a heart where the finger was.
import { gettext, request, url } from "../../miniapp/api.js";
import { arrival, feed, reducedMotion, say, setCount, signedIn, slides } from "./page.js";

const isLiked = (slide) => slide.querySelector(".action-like").getAttribute("aria-pressed") === "true";

export async function toggleLike(slide) {
  const id = slide.dataset.id;
  if (!signedIn) return signInToLike(id);
  const button = slide.querySelector(".action-like");
  if (button.dataset.pending) return; // one request at a time per video
  const count = button.querySelector(".action-count");
  const wasLiked = isLiked(slide);
  const before = Number(count.dataset.count);
  setLiked(button, !wasLiked, before + (wasLiked ? -1 : 1));
  button.dataset.pending = "1";
  try {
    const body = await request(url("api-like", id), {
      method: wasLiked ? "DELETE" : "POST",
      fallback: gettext("Could not save your like. Please try again."),
    });
    setLiked(button, body.liked, body.like_count);
  } catch (error) {
    setLiked(button, wasLiked, before);
    say(error.message);
  } finally {
    delete button.dataset.pending;
  }
}

// Sign in, then come back to this video (through the same share link) with the like applied:
// the server keeps that wish in the session (a link alone cannot make anyone like anything).
async function signInToLike(id) {
  const token = arrival.token && id === arrival.id ? `?s=${encodeURIComponent(arrival.token)}` : "";
  const back = `${url("video-detail", id)}${token}`;
  try {
    await request(url("video-like-after-sign-in", id), { method: "POST" });
  } catch {
    // Offline, or refused: sign in all the same; the like then takes a second tap.
  }
  location.assign(`${url("login")}?next=${encodeURIComponent(back)}`);
}

function setLiked(button, liked, likeCount) {
  button.setAttribute("aria-pressed", String(liked));
  setCount(button.querySelector(".action-count"), Math.max(0, likeCount));
  if (liked && !reducedMotion.matches) {
    button.classList.remove("is-popping");
    void button.offsetWidth; // restart the animation
    button.classList.add("is-popping");
  }
}

export function doubleTap(slide, x, y) {
  burst(slide, x, y);
  if (!isLiked(slide)) toggleLike(slide);
}

function burst(slide, x, y) {
  if (reducedMotion.matches) return;
  const box = slide.getBoundingClientRect();
  const heart = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  heart.setAttribute("viewBox", "0 0 24 24");
  heart.setAttribute("class", "heart-burst");
  heart.innerHTML = '<path d="M12 21s-7.5-4.6-9.6-9.3C.9 8.4 3 4.5 6.6 4.5c2.2 0 3.6 1.2 5.4 3.2 1.8-2 3.2-3.2 5.4-3.2 3.6 0 5.7 3.9 4.2 7.2C19.5 16.4 12 21 12 21z"/>';
  heart.style.left = `${x - box.left}px`;
  heart.style.top = `${y - box.top}px`;
  heart.addEventListener("animationend", () => heart.remove());
  slide.append(heart);
}

// Back from signing in to like this video: the server says so once (data-like-first).
export function start() {
  const first = slides()[0];
  if (feed.dataset.likeFirst === "1" && signedIn && first && !isLiked(first)) toggleLike(first);
}
