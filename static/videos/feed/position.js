// Where the viewer was: the slide on screen is kept in this history entry's state, so that
// coming back to the feed (‹ on an author's page, the browser's back) shows the same video,
// not the first. The feed scrolls in a box of its own, which browsers don't restore. A slide
// of a page loaded later (cards.js) is not on the page yet when it comes back: the feed then
// starts from the top.
import { feed } from "./page.js";

export function remember(slide) {
  history.replaceState({ ...history.state, slide: slide.dataset.id }, "");
}

// The slide this history entry was left at, scrolled to at once; undefined if there is none.
export function restore() {
  const id = history.state?.slide;
  const slide = id && feed.querySelector(`.slide[data-id="${CSS.escape(id)}"]`);
  if (!slide) return undefined;
  slide.scrollIntoView({ block: "start" });
  return slide;
}
