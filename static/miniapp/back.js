// A page's ‹ (a link marked data-back): back to where the viewer came from on this site (the
// feed at the same video, say), and to the link's own address when the page was opened from
// elsewhere (a shared link, a new tab).
for (const link of document.querySelectorAll("a[data-back]")) {
  link.addEventListener("click", (event) => {
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
}
