/*
 * On the logged-out page, right after a logout: tell the other tabs of the
 * login that just ended to leave the person's pages (session-timeout.js
 * listens there). <body data-ended-tag> names that login; the server sends it
 * once, so a reload or a later visit tells nobody anything.
 *
 * No eval, no inline handlers, no dependencies: runs under script-src 'self'.
 */
(function () {
  "use strict";

  function tell() {
    var tag = document.body && document.body.getAttribute("data-ended-tag");
    if (!tag) {
      return;
    }
    var message = {type: "ended", tag: tag, reason: "logout", at: new Date().getTime()};
    try {
      if (typeof window.BroadcastChannel === "function") {
        var channel = new window.BroadcastChannel("sip-portal");
        channel.postMessage(message);
        channel.close();
      }
    } catch (e) {
      // Fall through to storage.
    }
    try {
      window.localStorage.setItem("sip-portal:ended", JSON.stringify(message));
    } catch (e) {
      // No storage either: the other tabs learn it at their next request.
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", tell);
  } else {
    tell();
  }
})();
