// The feed page's shared pieces: its slides, counts, a short notice, and how it was opened.
export const feed = document.querySelector(".feed");
export const signedIn = document.body.dataset.signedIn === "1";
export const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
export const slides = () => Array.from(feed.querySelectorAll(".slide"));
export const videoOf = (slide) => slide.querySelector("video");

// A shared link (/v/<id>/?s=<token>) names the video it opened and the share it came through.
export const arrival = {
  id: feed?.querySelector(".slide")?.dataset.id,
  token: new URLSearchParams(location.search).get("s") || "",
};

// The API's URLs are absolute, on SITE_URL. This page may be open under another name of
// the same server (localhost for 127.0.0.1), and its CSP loads media from its own origin
// only: a URL on SITE_URL becomes a path here, as lib/site.py's on_this_site does.
const site = feed?.dataset.site || location.origin;
export const onThisSite = (address) => (address.startsWith(`${site}/`) ? address.slice(site.length) : address);

// 1.2万 / 12.3K, as the server's compact_count filter writes them.
const counts = new Intl.NumberFormat(document.documentElement.lang || "zh-hans", {
  notation: "compact",
  maximumFractionDigits: 1,
});

export function setCount(element, value) {
  element.dataset.count = value;
  element.textContent = counts.format(value);
}

let sayTimer = null;

export function say(text) {
  let toast = document.querySelector(".feed-toast");
  if (!toast) {
    toast = document.createElement("p");
    toast.className = "feed-toast";
    toast.setAttribute("role", "alert");
    document.body.append(toast);
  }
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(sayTimer);
  sayTimer = setTimeout(() => (toast.hidden = true), 2500);
}
