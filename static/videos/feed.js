"use strict";
// The vertical feed: plays the visible video (muted, inline), preloads the next
// one and no more, loads further pages from the API as the viewer nears the end.
(() => {
  const feed = document.querySelector(".feed");
  if (!feed) return;
  const template = document.getElementById("slide-template");
  const soundToggle = document.querySelector(".sound-toggle");
  const gettext = window.gettext || ((text) => text);
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((format, values) => format.replace(/%\((\w+)\)s/g, (_, key) => values[key]));
  const counts = new Intl.NumberFormat(document.documentElement.lang || "zh-hans", {
    notation: "compact",
    maximumFractionDigits: 1,
  });
  const seen = new Set();
  const signedIn = document.body.dataset.signedIn === "1";
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const DOUBLE_TAP_MS = 280;
  // The API's URLs are absolute, on SITE_URL. This page may be open under another name of
  // the same server (localhost for 127.0.0.1), and its CSP loads media from its own origin
  // only: a URL on SITE_URL becomes a path here, as lib/site.py's on_this_site does.
  const site = feed.dataset.site || location.origin;
  const onThisSite = (url) => (url.startsWith(`${site}/`) ? url.slice(site.length) : url);
  let nextUrl = feed.dataset.next || "";
  let loading = false;
  let current = null;
  let soundOn = false;
  // A shared link (/v/<id>/?s=<token>) names the video it opened and the share it came through.
  const params = new URLSearchParams(location.search);
  const arrival = { id: feed.querySelector(".slide")?.dataset.id, token: params.get("s") || "" };

  const slides = () => Array.from(feed.querySelectorAll(".slide"));
  const videoOf = (slide) => slide.querySelector("video");

  function attach(slide) {
    const video = videoOf(slide);
    if (!video.getAttribute("poster")) video.poster = video.dataset.poster;
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

  // A view counts once the video has played VIEW_SECONDS (the server counts it once a day).
  const VIEW_SECONDS = 2;
  const reported = new Set();
  let watched = { slide: null, seconds: 0, last: 0 };

  function onTime(event) {
    const video = event.target;
    const slide = video.closest(".slide");
    if (slide !== current || video.paused) return;
    if (watched.slide !== slide) watched = { slide, seconds: 0, last: video.currentTime };
    const step = video.currentTime - watched.last;
    watched.last = video.currentTime;
    if (step > 0 && step < 1.5) watched.seconds += step; // not a seek, not the loop back to 0
    if (watched.seconds >= VIEW_SECONDS && !reported.has(slide.dataset.id)) reportView(slide.dataset.id, watched.seconds);
  }

  function reportView(id, seconds) {
    reported.add(id);
    fetch(`/api/videos/${id}/views/`, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: JSON.stringify({ seconds }),
    }).catch(() => reported.delete(id)); // offline: try again on the next timeupdate
  }

  function activate(slide) {
    if (current === slide) return;
    current = slide;
    watched = { slide, seconds: 0, last: videoOf(slide).currentTime };
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
        if (i === index + 2 && !video.getAttribute("poster")) video.poster = video.dataset.poster;
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
    video.dataset.src = onThisSite(card.video_url);
    video.dataset.poster = onThisSite(card.poster_url);
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
    slide.querySelector(".action-like").setAttribute("aria-pressed", String(card.liked_by_me));
    fillFriends(slide, card);
  }

  // "3 位好友赞过" with the first friends' faces.
  function fillFriends(slide, card) {
    const line = slide.querySelector(".slide-friends");
    const count = card.friends_liked_count;
    const faces = card.friends_who_liked.map((friend) => {
      const face = document.createElement("img");
      Object.assign(face, { src: friend.avatar, alt: "", width: 20, height: 20 });
      return face;
    });
    line.querySelector(".slide-friends-faces").replaceChildren(...faces);
    const text = ngettext("%(count)s friend liked this", "%(count)s friends liked this", count);
    line.querySelector(".slide-friends-text").textContent = count ? interpolate(text, { count }, true) : "";
    line.hidden = !count;
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
    videoOf(slide).addEventListener("timeupdate", onTime);
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
      nextUrl = onThisSite(page.next || "");
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

  // One tap pauses or plays; a double tap likes (never unlikes) with a heart where the finger was.
  let lastTap = { time: 0, slide: null, timer: null };
  feed.addEventListener("click", (event) => {
    const slide = event.target.closest(".slide");
    if (!slide) return;
    const likeButton = event.target.closest(".action-like");
    if (likeButton) return toggleLike(slide);
    if (event.target.closest(".slide-actions")) return;
    const now = Date.now();
    if (lastTap.slide === slide && now - lastTap.time < DOUBLE_TAP_MS) {
      clearTimeout(lastTap.timer);
      lastTap = { time: 0, slide: null, timer: null };
      burst(slide, event.clientX, event.clientY);
      if (slide.querySelector(".action-like").getAttribute("aria-pressed") !== "true") toggleLike(slide);
      return;
    }
    lastTap = { time: now, slide, timer: setTimeout(() => togglePause(slide), DOUBLE_TAP_MS) };
  });

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

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function say(text) {
    let toast = document.querySelector(".feed-toast");
    if (!toast) {
      toast = document.createElement("p");
      toast.className = "feed-toast";
      toast.setAttribute("role", "alert");
      document.body.append(toast);
    }
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => (toast.hidden = true), 2500);
  }

  // The like button answers at once; the server's answer settles it, or rolls it back.
  async function toggleLike(slide) {
    const id = slide.dataset.id;
    if (!signedIn) {
      // Sign in, then come back to this video (through the same share link) with the like applied.
      const back = `/v/${id}/${arrival.token && id === arrival.id ? `?s=${encodeURIComponent(arrival.token)}` : ""}`;
      try {
        await fetch(`/v/${id}/like-after-sign-in/`, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken() },
        });
      } catch {
        // Offline: sign in all the same; the like then takes a second tap.
      }
      location.assign(`/login/?next=${encodeURIComponent(back)}`);
      return;
    }
    const button = slide.querySelector(".action-like");
    if (button.dataset.pending) return; // one request at a time per video
    const count = button.querySelector(".action-count");
    const wasLiked = button.getAttribute("aria-pressed") === "true";
    const before = Number(count.dataset.count);
    setLiked(button, !wasLiked, before + (wasLiked ? -1 : 1));
    button.dataset.pending = "1";
    try {
      const response = await fetch(`/api/videos/${id}/like/`, {
        method: wasLiked ? "DELETE" : "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.detail || gettext("Could not save your like. Please try again."));
      setLiked(button, body.liked, body.like_count);
    } catch (error) {
      setLiked(button, wasLiked, before);
      say(error instanceof TypeError ? gettext("The network failed. Check your connection and try again.") : error.message);
    } finally {
      delete button.dataset.pending;
    }
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

  document.addEventListener("keydown", (event) => {
    if (event.key === "l" && current && !event.target.closest("input, textarea")) return toggleLike(current);
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
    videoOf(slide).addEventListener("timeupdate", onTime);
    observer.observe(slide);
  });
  window.miniappFeed = { say, setCount, csrfToken, arrival };

  // A moderator took a video down: it leaves the feed at once (the one playing says why).
  document.addEventListener("miniapp:video-gone", (event) => {
    const slide = feed.querySelector(`.slide[data-id="${event.detail.id}"]`);
    if (!slide) return;
    if (slide !== current) {
      observer.unobserve(slide);
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
  });
  if (slides().length) activate(slides()[0]);

  // Back from signing in to like this video: the server kept that wish in the session
  // (a link alone cannot make anyone like anything) and says so once.
  if (feed.dataset.likeFirst === "1" && signedIn && slides().length) {
    const first = slides()[0];
    if (first.querySelector(".action-like").getAttribute("aria-pressed") !== "true") toggleLike(first);
  }
})();
