"use strict";
// The vertical feed: plays the visible video (muted, inline), preloads the next
// one and no more, loads further pages from the API as the viewer nears the end.
(() => {
  const feed = document.querySelector(".feed");
  if (!feed) return;
  const template = document.getElementById("slide-template");
  const soundToggle = document.querySelector(".sound-toggle");
  const gettext = window.gettext || ((text) => text);
  const counts = new Intl.NumberFormat(document.documentElement.lang || "zh-hans", {
    notation: "compact",
    maximumFractionDigits: 1,
  });
  const seen = new Set();
  let nextUrl = feed.dataset.next || "";
  let loading = false;
  let current = null;
  let soundOn = false;

  const slides = () => Array.from(feed.querySelectorAll(".slide"));
  const videoOf = (slide) => slide.querySelector("video");

  function attach(slide) {
    const video = videoOf(slide);
    if (!video.getAttribute("src")) video.src = video.dataset.src;
  }

  function detach(slide) {
    const video = videoOf(slide);
    if (!video.getAttribute("src")) return;
    video.pause();
    video.removeAttribute("src");
    video.load(); // frees the decoder and the buffered data
  }

  function play(slide) {
    const video = videoOf(slide);
    video.muted = !soundOn;
    video.play().then(
      () => slide.classList.remove("is-paused"),
      () => {
        if (!video.muted) {
          // Sound needs a tap first on this browser: fall back to muted.
          setSound(false);
          video.muted = true;
          video.play().catch(() => slide.classList.add("is-paused"));
        } else {
          slide.classList.add("is-paused");
        }
      },
    );
  }

  function activate(slide) {
    if (current === slide) return;
    current = slide;
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
    if (index >= list.length - 3) loadMore();
  }

  function togglePause(slide) {
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

  function fill(slide, card) {
    slide.dataset.id = card.id;
    slide.setAttribute("aria-label", card.title);
    const video = videoOf(slide);
    video.dataset.src = card.video_url;
    video.poster = card.poster_url;
    video.classList.toggle("is-landscape", card.width > card.height);
    slide.querySelector(".slide-author").textContent = `@${card.author.name}`;
    slide.querySelector(".slide-title").textContent = card.title;
    const desc = slide.querySelector(".slide-desc");
    if (desc && card.description) desc.textContent = card.description;
    else if (desc) desc.remove();
    const avatar = slide.querySelector(".slide-avatar");
    avatar.src = card.author.avatar;
    avatar.alt = card.author.name;
    const [likes, shares] = slide.querySelectorAll(".action-count");
    setCount(likes, card.like_count);
    setCount(shares, card.share_count);
  }

  function setCount(element, value) {
    element.dataset.count = value;
    element.textContent = counts.format(value);
  }

  function addSlide(card) {
    if (seen.has(card.id)) return;
    seen.add(card.id);
    const slide = template.content.firstElementChild.cloneNode(true);
    if (!slide.querySelector(".slide-desc")) {
      const desc = document.createElement("p");
      desc.className = "slide-desc";
      slide.querySelector(".slide-info").append(desc);
    }
    fill(slide, card);
    feed.append(slide);
    observer.observe(slide);
  }

  async function loadMore() {
    if (loading || !nextUrl) return;
    loading = true;
    try {
      const response = await fetch(nextUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(`feed page: ${response.status}`);
      const page = await response.json();
      page.results.forEach(addSlide);
      nextUrl = page.next || "";
    } catch (error) {
      console.warn(error); // try again when the viewer moves on
    } finally {
      loading = false;
    }
  }

  const observer = new IntersectionObserver(
    (entries) => entries.forEach((entry) => entry.isIntersecting && activate(entry.target)),
    { root: feed, threshold: 0.6 },
  );

  function step(direction) {
    const list = slides();
    const target = list[list.indexOf(current) + direction];
    if (target) target.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  feed.addEventListener("click", (event) => {
    const slide = event.target.closest(".slide");
    if (slide && !event.target.closest(".slide-actions")) togglePause(slide);
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, button") || event.altKey || event.metaKey) return;
    if (["ArrowDown", "PageDown", "j"].includes(event.key)) step(1);
    else if (["ArrowUp", "PageUp", "k"].includes(event.key)) step(-1);
    else if (event.key === " " && current) togglePause(current);
    else return;
    event.preventDefault();
  });

  document.addEventListener("visibilitychange", () => {
    if (!current) return;
    if (document.hidden) videoOf(current).pause();
    else play(current);
  });

  if (soundToggle) {
    soundToggle.hidden = false;
    soundToggle.addEventListener("click", () => {
      setSound(!soundOn);
      if (current) {
        videoOf(current).muted = !soundOn;
        if (soundOn) play(current);
      }
    });
  }

  slides().forEach((slide) => {
    seen.add(Number(slide.dataset.id));
    observer.observe(slide);
  });
  if (slides().length) activate(slides()[0]);
})();
