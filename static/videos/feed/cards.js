// Cards: further pages of the feed come from the API as the viewer nears the end, each
// card filled into a copy of the server's slide template.
import { gettext, interpolate, ngettext, request, url } from "../../miniapp/api.js";
import { feed, onThisSite, setCount, slides, videoOf } from "./page.js";

const template = document.getElementById("slide-template");
const seen = new Set(); // ids of the slides on the page: a card on two pages shows once
let nextUrl = feed?.dataset.next || "";
let loading = false;
let onSlide = () => {};

function fill(slide, card) {
  slide.dataset.id = card.id;
  slide.setAttribute("aria-label", card.title);
  const video = videoOf(slide);
  video.dataset.src = onThisSite(card.video_url);
  video.dataset.poster = onThisSite(card.poster_url);
  video.classList.toggle("is-landscape", card.width > card.height);
  const author = slide.querySelector(".slide-author a");
  author.textContent = `@${card.author.name}`;
  author.href = url("author", card.author.id);
  slide.querySelector(".slide-avatar-link").href = author.href;
  slide.querySelector(".slide-title").textContent = card.title;
  const desc = slide.querySelector(".slide-desc");
  if (desc && card.description) desc.textContent = card.description;
  else if (desc) desc.remove();
  const avatar = slide.querySelector(".slide-avatar");
  avatar.src = card.author.avatar;
  avatar.alt = card.author.name;
  setCount(slide.querySelector(".action-like .action-count"), card.like_count);
  setCount(slide.querySelector(".action-comment .action-count"), card.comment_count);
  setCount(slide.querySelector(".action-share .action-count"), card.share_count);
  slide.querySelector(".action-like").setAttribute("aria-pressed", String(card.liked_by_me));
  fillFriends(slide, card);
}

// "3 位好友赞过" with the first friends' faces, and "王家村群里分享过" when it was shared into my group.
function fillFriends(slide, card) {
  const line = slide.querySelector(".slide-friends");
  const count = card.friends_liked_count;
  const faces = card.friends_who_liked.map((friend) => {
    const face = document.createElement("img");
    Object.assign(face, { src: friend.avatar, alt: "", width: 20, height: 20 });
    return face;
  });
  line.querySelector(".slide-friends-faces").replaceChildren(...faces);
  const parts = [];
  if (count) {
    const text = ngettext("%(count)s friend liked this", "%(count)s friends liked this", count);
    parts.push(interpolate(text, { count }, true));
  }
  const group = (card.shared_in_groups || [])[0];
  if (group) parts.push(interpolate(gettext("Shared in %(name)s"), { name: group.name }, true));
  line.querySelector(".slide-friends-text").textContent = parts.join(" · ");
  line.hidden = !parts.length;
}

function add(card) {
  if (seen.has(card.id)) return;
  seen.add(card.id);
  const slide = template.content.firstElementChild.cloneNode(true);
  if (!slide.querySelector(".slide-desc")) {
    const desc = document.createElement("p");
    desc.className = "slide-desc";
    slide.querySelector(".slide-info").append(desc);
  }
  fill(slide, card);
  const end = feed.querySelector(".feed-end");
  if (end) end.before(slide);
  else feed.append(slide);
  offerMore(slide);
  onSlide(slide);
}

// A description cut at two lines gets a 展开 button after it (gestures.js toggles it).
function offerMore(slide) {
  const desc = slide.querySelector(".slide-desc");
  if (!desc || desc.scrollHeight <= desc.clientHeight + 1) return;
  const more = document.createElement("button");
  more.type = "button";
  more.className = "slide-more";
  more.setAttribute("aria-expanded", "false");
  more.textContent = gettext("More");
  desc.after(more);
}

export function toggleMore(slide) {
  const desc = slide.querySelector(".slide-desc");
  const more = slide.querySelector(".slide-more");
  const open = !desc.classList.contains("is-open");
  desc.classList.toggle("is-open", open);
  more.setAttribute("aria-expanded", String(open));
  more.textContent = open ? gettext("Less") : gettext("More");
}

// After the last page: the end of the feed shows, with a way back to the first video.
function showEnd() {
  const end = feed?.querySelector(".feed-end");
  if (!end) return;
  end.hidden = false;
  end.querySelector(".feed-end-top").onclick = () => slides()[0]?.scrollIntoView({ behavior: "smooth" });
}

export async function loadMore() {
  if (loading || !nextUrl) return;
  loading = true;
  try {
    const page = await request(nextUrl);
    page.results.forEach(add);
    nextUrl = onThisSite(page.next || "");
    if (!nextUrl) showEnd();
  } catch (error) {
    console.warn(error); // try again when the viewer moves on
  } finally {
    loading = false;
  }
}

// onSlide(slide): a slide was added (the server's first, then each one loaded).
export function start(options) {
  onSlide = options.onSlide;
  if (!nextUrl) showEnd();
  slides().forEach((slide) => {
    seen.add(Number(slide.dataset.id));
    offerMore(slide);
    onSlide(slide);
  });
}
