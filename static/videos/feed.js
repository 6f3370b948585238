// The vertical feed. Each concern is a module of feed/; this one only wires them together.
import * as cards from "./feed/cards.js";
import * as gestures from "./feed/gestures.js";
import * as likes from "./feed/likes.js";
import * as playback from "./feed/playback.js";
import * as position from "./feed/position.js";
import * as progress from "./feed/progress.js";
import * as takedowns from "./feed/takedowns.js";
import * as views from "./feed/views.js";

cards.start({
  onSlide: (slide) => {
    views.track(slide);
    playback.observe(slide);
  },
});
gestures.start();
takedowns.start();
playback.start({
  first: position.restore(),
  onActivate: (slide) => {
    position.remember(slide);
    views.restart(slide);
  },
  onNearEnd: cards.loadMore,
});
likes.start();
progress.start();
