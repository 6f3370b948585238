// An author's page: ‹ goes back to where the viewer came from on this site (the feed, at the
// same video), and to the feed when the page was opened from elsewhere.
const back = document.querySelector(".author-back");
back?.addEventListener("click", (event) => {
  let from = null;
  try {
    from = document.referrer && new URL(document.referrer);
  } catch {
    from = null;
  }
  if (from && from.origin === location.origin && history.length > 1) {
    event.preventDefault();
    history.back();
  }
});
